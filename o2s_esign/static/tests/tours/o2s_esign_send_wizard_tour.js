/** @odoo-module **/
// An advisor sends a document of the client's file for signature from the contact's action menu.
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("o2s_esign_send_wizard_tour", {
    steps: () => [
        {
            content: "Open the contact's action menu",
            trigger: ".o_form_view .o_cp_action_menus i.fa-cog",
            run: "click",
        },
        {
            content: "Choose “Sign electronically”",
            trigger: ".dropdown-menu .o_menu_item:contains(Sign electronically)",
            run: "click",
        },
        {
            content: "Look at the signers",
            trigger: ".modal .o_notebook .nav-link:contains(Signers)",
            run: "click",
        },
        {
            content: "The contact is proposed as the signer",
            trigger: ".modal .o_field_widget[name=signer_line_ids] .o_data_row:contains(Tour Client)",
        },
        {
            content: "Back to the documents",
            trigger: ".modal .o_notebook .nav-link:contains(Documents)",
            run: "click",
        },
        {
            content: "Pick the mission letter in the client's documents",
            trigger: ".modal .o_field_widget[name=partner_attachment_ids] label:contains(tour_mission_letter.pdf)",
            run: "click",
        },
        {
            content: "The document is listed with its type",
            trigger: ".modal .o_field_widget[name=document_line_ids] .o_data_row:contains(tour_mission_letter.pdf)",
        },
        {
            content: "Send",
            trigger: ".modal .modal-footer button[name=action_send]",
            run: "click",
        },
        {
            content: "The request is in progress",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(In progress)",
        },
        {
            content: "… for the client",
            trigger: ".o_form_view .o_field_widget[name=partner_id]:contains(Tour Client)",
        },
    ],
});
