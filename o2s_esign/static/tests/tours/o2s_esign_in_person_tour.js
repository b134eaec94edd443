/** @odoo-module **/
/* Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0). */

import { registry } from "@web/core/registry";

/**
 * The code the signer reads on their phone: the last SMS the gateway stand-in received (the
 * signers sign one after the other). The test gives the gateway's port in the cookie
 * ``o2s_esign_tour_gw`` (the backend's URL keeps no hash).
 */
async function readLastCode() {
    const port = (document.cookie.match(/(?:^|;\s*)o2s_esign_tour_gw=(\d+)/) || [])[1];
    const response = await fetch(`http://127.0.0.1:${port}/last-sms`);
    const { body } = await response.json();
    const match = body && body.match(/(?<!\d)\d{6}(?!\d)/);
    if (!match) {
        throw new Error(`No code in the SMS: ${body}`);
    }
    return match[0];
}

const signHere = (name) => [
    {
        content: `${name}'s signing page, on the advisor's screen, ready (its document shown)`,
        trigger: ".o_esign_signer_page .o_esign_pdf_viewer.o_esign_pdf_ready canvas.o_esign_pdf_page",
    },
    {
        content: "The code goes to the signer's mobile",
        trigger: "button.o_esign_send_code",
        run: "click",
    },
    {
        content: "The signer types the code of their SMS",
        trigger: ".o_esign_code_form:not(.d-none) input#o_esign_code",
        async run(helpers) {
            await helpers.edit(await readLastCode());
        },
    },
    { content: "Verify", trigger: "button.o_esign_verify", run: "click" },
    {
        content: "Accept",
        trigger: ".o_esign_step_sign:not(.d-none) #o_esign_consent",
        run() {
            document.querySelector("#o_esign_consent").click();
        },
    },
    {
        content: `The typed name (${name}) is the signature`,
        trigger: ".o_esign_signature_pad.o_esign_signature_ready canvas.o_web_sign_signature",
    },
    { content: "Sign", trigger: ".o_esign_step_sign button.o_esign_sign", run: "click" },
];

registry.category("web_tour.tours").add("o2s_esign_in_person", {
    steps: () => [
        {
            content: "On the request, the advisor signs in person",
            trigger: ".o_form_view button[name=action_esign_sign_in_person]",
            run: "click",
        },
        ...signHere("Jeanne Martin"),
        {
            content: "Jeanne is done: the next signer in person",
            trigger:
                ".o_esign_status[data-validity=signed] button.o_esign_in_person_next_signer:contains(Next signer: Louis Durand)",
            run: "click",
        },
        ...signHere("Louis Durand"),
        {
            content: "Everyone signed: back to the request",
            trigger: ".o_esign_status[data-validity=completed] a.o_esign_in_person_back",
            run: "click",
        },
        {
            content: "The request is signed",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Signed)",
        },
    ],
});
