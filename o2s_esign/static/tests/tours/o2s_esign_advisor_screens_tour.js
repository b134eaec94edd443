/** @odoo-module **/
// An advisor whose language is French walks their screens (issue #20): a sent request (no
// "Supprimer", "Relancer maintenant" confirms, the audit trail in their time zone), a signer's
// form, cancelling with a reason (the signer line then says "Annulé"), the settings page (its
// title, no "Nouveau"; the signing-page text shown, a placeholder inserted in one click) and the
// mail report. On each screen, no English word is visible.
import { registry } from "@web/core/registry";

// English words the French screens must not show (case-sensitive, whole words: "Sign" is not
// found in "Signé"). Words French shares (Date, Message, Documents, Client, Type, Signature, Signer,
// Introduction...) are left out.
const ENGLISH = new RegExp(
    "(?<![\\p{L}\\p{N}_])(" +
        [
            "the", "and", "of", "to", "your", "is", "are", "with", "New", "Delete", "Save", "Discard",
            "Send", "Sent", "Signers", "Signed", "Sign", "Cancel", "Cancelled", "Remind",
            "Reminder", "Reminders", "Request", "Requests", "Settings", "Status", "Copy", "Preview",
            "Placeholders", "Consent", "Audit", "trail", "zone", "Expires", "Advisor", "Shared",
            "Subject", "Mail", "Mails", "Download", "Evidence", "Check", "created", "Error", "Retry",
            "Back", "Activities", "Follow", "Log", "Waiting", "Pending", "Failed", "Queued",
            "Recipient", "Sender", "Reason", "Connection", "refused", "Own", "text", "Language",
            "Restore", "default",
        ].join("|") +
        ")(?![\\p{L}\\p{N}_])",
    "u"
);

function checkNoEnglish(root = ".o_action_manager") {
    const element = document.querySelector(root);
    if (!element) {
        throw new Error(`Nothing to check: ${root} is not on the page`);
    }
    // Placeholders ({{ signer }}) are code, not words.
    const text = element.innerText.replace(/\{\{\s*[a-z_]+\s*\}\}/g, " ");
    const match = ENGLISH.exec(text);
    if (match) {
        const at = match.index;
        throw new Error(
            `English on the screen (${root}): "${match[0]}" in "…${text.slice(Math.max(0, at - 60), at + 60)}…"`
        );
    }
}

function noEnglishStep(content, trigger, root) {
    return { content, trigger, run: () => checkNoEnglish(root) };
}

registry.category("web_tour.tours").add("o2s_esign_advisor_screens_fr", {
    url: "/odoo/action-o2s_esign.o2s_esign_request_action",
    steps: () => [
        noEnglishStep("The requests, in French", ".o_list_view .o_data_row:contains(Lettre de mission)"),
        {
            content: "Open the sent request",
            trigger: ".o_list_view .o_data_row:contains(Lettre de mission) .o_data_cell:contains(Jeanne Martin)",
            run: "click",
        },
        noEnglishStep(
            "The sent request, in French",
            ".o_form_view .o_statusbar_status:has(.o_arrow_button_current:contains(En cours))"
        ),
        {
            content: "The chatter says the request was created, in French",
            trigger: ".o-mail-Chatter:contains(Demande de signature créée)",
        },
        {
            content: "Open the action menu",
            trigger: ".o_cp_action_menus i.fa-cog",
            run: "click",
        },
        {
            content: "No “Supprimer” on a sent request",
            trigger: ".o-dropdown--menu .o-dropdown-item",
            run() {
                const menu = document.querySelector(".o-dropdown--menu");
                if (/Supprimer|Delete/.test(menu.innerText)) {
                    throw new Error(`The action menu of a sent request offers: ${menu.innerText}`);
                }
            },
        },
        {
            content: "Close the menu",
            trigger: ".o_cp_action_menus i.fa-cog",
            run: "click",
        },
        {
            content: "“Relancer maintenant” asks first",
            trigger: ".o_form_view .o_form_statusbar button[name=action_remind]",
            run: "click",
        },
        {
            content: "… and can be declined",
            trigger: ".modal .modal-footer .btn-secondary",
            run: "click",
        },
        {
            content: "The question is gone",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "The audit trail",
            trigger: ".o_form_view .o_notebook .nav-link[name=audit]:contains(Piste)",
            run: "click",
        },
        {
            content: "… says its time zone and shows it",
            trigger: ".o_field_widget[name=event_ids] th:contains(votre fuseau horaire)",
        },
        noEnglishStep("… in French", ".o_field_widget[name=event_ids] td:contains((Europe/Paris))"),
        {
            content: "The signers",
            trigger: ".o_form_view .o_notebook .nav-link[name=signers]:contains(Signataires)",
            run: "click",
        },
        {
            content: "Open the signer",
            trigger: ".o_field_widget[name=signer_ids] .o_data_row:contains(Jeanne Martin) button[name=action_esign_open]",
            run: "click",
        },
        noEnglishStep(
            "The signer's form: its actions, in French",
            ".modal .o_form_view button[name=action_esign_resend_invitation]:contains(Renvoyer)",
            ".modal"
        ),
        {
            content: "Close the signer's form",
            trigger: ".modal .modal-header .btn-close",
            run: "click",
        },
        {
            content: "The signer's form is closed",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "Cancel the request",
            trigger: ".o_form_view .o_form_statusbar button[name=action_open_cancel_wizard]",
            run: "click",
        },
        {
            content: "A reason is asked (optional)",
            trigger: ".modal .o_field_widget[name=reason] textarea",
            run: "edit Le client a changé d'avis",
        },
        noEnglishStep("The cancel wizard, in French", ".modal .o_field_widget[name=reason] textarea", ".modal"),
        {
            content: "Confirm",
            trigger: ".modal .modal-footer button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The request is cancelled",
            trigger: ".o_form_view .o_statusbar_status:has(.o_arrow_button_current:contains(Annulé))",
        },
        noEnglishStep(
            "The signer line says “Annulé”",
            ".o_field_widget[name=signer_ids] .o_data_row td[name=display_state]:contains(Annulé)"
        ),
        {
            content: "Open the configuration menu",
            trigger: ".o_main_navbar .o_menu_sections button:contains(Configuration)",
            run: "click",
        },
        {
            content: "Open the settings",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains(Paramètres)",
            run: "click",
        },
        {
            content: "The settings page has its title in the breadcrumb, no “Nouveau”",
            trigger: ".o_breadcrumb:contains(Paramètres de la signature électronique)",
            run() {
                const breadcrumb = document.querySelector(".o_breadcrumb").innerText;
                if (/Nouveau|New|o2s\.esign\.settings/.test(breadcrumb)) {
                    throw new Error(`The settings page's breadcrumb says "${breadcrumb}"`);
                }
            },
        },
        noEnglishStep("The settings, in French", ".o_form_view .o_notebook"),
        {
            content: "The signing page text",
            trigger: ".o_form_view .o_notebook .nav-link[name=signing_page]:contains(Texte de signature)",
            run: "click",
        },
        {
            content: "The editor shows the current (default) text, in French",
            trigger: ".o_field_widget[name=signing_page_intro] [contenteditable=true]:contains(Lisez chacun des documents)",
            run: "click",
        },
        {
            content: "The consent paragraph is shown, in French",
            trigger: ".o_field_widget[name=signing_page_consent] textarea",
            run() {
                if (!this.anchor.value.includes("En signant")) {
                    throw new Error(`The consent paragraph says "${this.anchor.value}"`);
                }
            },
        },
        {
            content: "The preview, in French",
            trigger: ".o_field_widget[name=signing_page_preview]:contains(En signant)",
        },
        noEnglishStep("The text editor, in French", ".o_esign_placeholders button[data-placeholder=signer]"),
        {
            content: "Insert a placeholder in one click",
            trigger: ".o_esign_placeholders button[data-placeholder=signer]",
            run: "click",
        },
        {
            content: "The placeholder is in the text",
            trigger: ".o_field_widget[name=signing_page_intro] [contenteditable=true]:contains({{ signer }})",
        },
        {
            content: "Open the reporting menu",
            trigger: ".o_main_navbar .o_menu_sections button:contains(Analyse)",
            run: "click",
        },
        {
            content: "Open the mail report",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains(E-mails)",
            run: "click",
        },
        noEnglishStep(
            "The failure is readable, in French",
            ".o_list_view .o_data_row td[name=failure_message]:contains(Le serveur de messagerie sortant)"
        ),
    ],
});
