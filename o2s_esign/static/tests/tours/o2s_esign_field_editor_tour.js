/** @odoo-module **/
// An advisor adds a second signer, places a signature box for each signer in the editor, sends.
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("o2s_esign_field_editor_tour", {
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
            content: "Add a signer",
            trigger: ".modal .o_field_widget[name=signer_line_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "The second signer",
            trigger: ".modal .o_field_widget[name=signer_line_ids] .o_selected_row .o_field_widget[name=partner_id] input",
            run: "edit Second Signer",
        },
        {
            content: "Choose them",
            trigger: ".ui-autocomplete .dropdown-item:contains(Second Signer)",
            run: "click",
        },
        {
            content: "Back to the documents",
            trigger: ".modal .o_notebook .nav-link:contains(Documents)",
            run: "click",
        },
        {
            content: "Pick the mission letter in the client's documents",
            trigger: ".modal .o_field_widget[name=partner_attachment_ids] label:contains(editor_letter.pdf)",
            run: "click",
        },
        {
            content: "Place the fields of the document",
            trigger: ".modal .o_field_widget[name=document_line_ids] .o_data_row:contains(editor_letter.pdf) .o_esign_place_fields",
            run: "click",
        },
        {
            content: "The pages are shown",
            trigger: ".o_esign_field_editor .o_esign_field_pages.o_esign_rendered .o_esign_field_page[data-page='1'] canvas",
        },
        {
            content: "A signature box for the first signer",
            trigger: ".o_esign_field_editor .o_esign_field_page[data-page='1']",
            run: "click",
        },
        {
            content: "The box is on the page",
            trigger: ".o_esign_field_editor .o_esign_field_box_signature",
        },
        {
            content: "Now the second signer",
            trigger: ".o_esign_field_editor select.o_esign_editor_signer",
            run: "select 2",
        },
        {
            content: "Their initials",
            trigger: ".o_esign_field_editor .o_esign_editor_type_initials",
            run: "click",
        },
        {
            content: "On the second page",
            trigger: ".o_esign_field_editor .o_esign_field_page[data-page='2']",
            run: "click",
        },
        {
            content: "Two boxes placed",
            trigger: ".o_esign_field_editor .o_esign_field_box_initials",
        },
        {
            content: "Done",
            trigger: ".o_esign_field_editor .o_esign_editor_save",
            run: "click",
        },
        {
            content: "The line counts its fields",
            trigger: ".modal .o_data_row:contains(editor_letter.pdf) .o_esign_place_fields .badge:contains(2)",
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
    ],
});
