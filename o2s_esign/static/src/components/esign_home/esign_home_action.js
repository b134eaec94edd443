/** @odoo-module **/
// Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { Layout } from "@web/search/layout";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";
import { EsignHome } from "./esign_home";

/** The landing page of the E-signature app (client action o2s_esign.action_esign_home). */
export class EsignHomeAction extends Component {
    static template = "o2s_esign.EsignHomeAction";
    static components = { Layout, EsignHome };
    static props = { ...standardActionServiceProps };
}

registry.category("actions").add("o2s_esign_home", EsignHomeAction);
