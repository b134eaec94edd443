/** @odoo-module **/
// Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { Layout } from "@web/search/layout";
import { standardViewProps } from "@web/views/standard_view_props";
import { EsignHome } from "./esign_home";

/**
 * The home block as a view, so that "My Dashboard" (the board module, which embeds window
 * actions and their views) can show it, move it and fold it like any other block.
 */
export class EsignHomeController extends Component {
    static template = "o2s_esign.EsignHomeController";
    static components = { Layout, EsignHome };
    static props = {
        ...standardViewProps,
        // Given by the board to the list views it embeds.
        allowSelectors: { type: Boolean, optional: true },
    };
}

export const esignHomeView = {
    type: "list",
    Controller: EsignHomeController,
    searchMenuTypes: [],
};

registry.category("views").add("o2s_esign_home_view", esignHomeView);
