/** @odoo-module **/
// Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

import { registry } from "@web/core/registry";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";

/**
 * The request form: "Delete" only for a draft (a sent request is kept for its evidence; the
 * server refuses its deletion anyway).
 */
export class EsignRequestFormController extends FormController {
    getStaticActionMenuItems() {
        const items = super.getStaticActionMenuItems();
        const isAvailable = items.delete.isAvailable;
        items.delete.isAvailable = () => isAvailable() && this.model.root.data.state === "draft";
        return items;
    }
}

registry.category("views").add("o2s_esign_request_form", {
    ...formView,
    Controller: EsignRequestFormController,
});
