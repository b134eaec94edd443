/** @odoo-module **/
/* Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0). */

import { registry } from "@web/core/registry";

/**
 * The signer's path on the signing page. The test opens the page with
 * ``#gw=<port>&to=<number>``: the port of the SMS gateway stand-in, which the tour asks for
 * the last SMS sent to the number, as the signer would read it on their phone.
 */
function gatewayParams() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    return { port: params.get("gw"), to: params.get("to") };
}

async function readCodeFromGateway() {
    const { port, to } = gatewayParams();
    const response = await fetch(
        `http://127.0.0.1:${port}/last-sms?to=${encodeURIComponent(to)}`
    );
    const { body } = await response.json();
    const match = body && body.match(/(?<!\d)\d{6}(?!\d)/);
    if (!match) {
        throw new Error(`No code in the SMS: ${body}`);
    }
    return match[0];
}

function checkNoHorizontalOverflow() {
    const width = window.innerWidth;
    if (document.documentElement.scrollWidth > width + 1) {
        throw new Error(`The page is wider (${document.documentElement.scrollWidth}px) than the screen (${width}px)`);
    }
    for (const canvas of document.querySelectorAll(".o_esign_pdf_page")) {
        const box = canvas.getBoundingClientRect();
        if (box.width > width || box.width < 100) {
            throw new Error(`A page of the document is ${box.width}px wide on a ${width}px screen`);
        }
    }
}

const documentSteps = () => [
    {
        content: "The document is readable in the page",
        trigger: ".o_esign_pdf_viewer.o_esign_pdf_ready canvas.o_esign_pdf_page",
    },
    {
        content: "It fits the screen",
        trigger: ".o_esign_pdf_viewer.o_esign_pdf_ready",
        run: checkNoHorizontalOverflow,
    },
    {
        content: "Each document has a download link",
        trigger: ".o_esign_document a.o_esign_download:contains(Download)",
    },
];

const signSteps = () => [
    {
        content: "Ask for the SMS code",
        trigger: "button.o_esign_send_code:contains(Send code)",
        run: "click",
    },
    {
        content: "Type the code received by SMS",
        trigger: ".o_esign_code_form:not(.d-none) input#o_esign_code",
        async run(helpers) {
            await helpers.edit(await readCodeFromGateway());
        },
    },
    {
        content: "Verify it",
        trigger: "button.o_esign_verify:contains(Verify)",
        run: "click",
    },
    {
        content: "Accept",
        trigger: ".o_esign_step_sign:not(.d-none) label[for=o_esign_consent]:contains(I have read)",
        run() {
            document.querySelector("#o_esign_consent").click();
        },
    },
    {
        content: "The typed name is the signature",
        trigger: ".o_esign_signature_pad.o_esign_signature_ready canvas.o_web_sign_signature",
    },
    {
        content: "Sign",
        trigger: ".o_esign_step_sign button.o_esign_sign:contains(Sign)",
        run: "click",
    },
    {
        content: "Done: the outcome and the signed documents",
        trigger: ".o_esign_status[data-validity=completed]:contains(Everyone has signed)",
    },
    {
        content: "Links to the signed documents",
        trigger: ".o_esign_status .o_esign_document a.o_esign_download",
    },
];

registry.category("web_tour.tours").add("o2s_esign_portal_sign", {
    steps: () => [...documentSteps(), ...signSteps()],
});

/**
 * A French signer: the same path by the controls' classes (their French labels come with the
 * module's translation), and the page's scripts speak French too (Odoo's own terms).
 */
registry.category("web_tour.tours").add("o2s_esign_portal_sign_fr", {
    steps: () => [
        {
            content: "The page is in the signer's language",
            trigger: "html[lang=fr-FR] .o_esign_pdf_viewer.o_esign_pdf_ready canvas.o_esign_pdf_page",
        },
        { content: "Ask for the code", trigger: "button.o_esign_send_code", run: "click" },
        {
            content: "Type the code",
            trigger: ".o_esign_code_form:not(.d-none) input#o_esign_code",
            async run(helpers) {
                await helpers.edit(await readCodeFromGateway());
            },
        },
        { content: "Verify", trigger: "button.o_esign_verify", run: "click" },
        {
            content: "The signature form speaks French",
            trigger: ".o_esign_step_sign:not(.d-none) .o_web_sign_name_group label:contains(Nom complet)",
        },
        {
            content: "Accept",
            trigger: ".o_esign_step_sign:not(.d-none) #o_esign_consent",
            run() {
                document.querySelector("#o_esign_consent").click();
            },
        },
        {
            content: "The typed name is ready",
            trigger: ".o_esign_signature_pad.o_esign_signature_ready canvas.o_web_sign_signature",
        },
        { content: "Sign", trigger: ".o_esign_step_sign button.o_esign_sign", run: "click" },
        { content: "Done", trigger: "html[lang=fr-FR] .o_esign_status[data-validity=completed]" },
    ],
});

registry.category("web_tour.tours").add("o2s_esign_portal_refuse", {
    steps: () => [
        ...documentSteps(),
        {
            content: "Refuse",
            trigger: "button.o_esign_refuse:contains(Refuse)",
            run: "click",
        },
        {
            content: "Give the reason",
            trigger: ".o_esign_refuse_reason:not(.d-none) textarea#o_esign_reason",
            run: "edit The amount is wrong",
        },
        {
            content: "Confirm the refusal",
            trigger: "button.o_esign_refuse:contains(Refuse)",
            run: "click",
        },
        {
            content: "The outcome",
            trigger: ".o_esign_status[data-validity=refused]:contains(You refused to sign)",
        },
    ],
});
