/** @odoo-module **/
/* Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0). */

import { registry } from "@web/core/registry";

/**
 * Issue 18: signing with the key made in the browser. The test injects, before the page
 * loads, either a wrapper of crypto.subtle.generateKey/exportKey that records the key the page
 * made (in sessionStorage, which survives the reload after signing), or the removal of
 * crypto.subtle (fallback to the server-side key). Opened with ``#gw=<port>&to=<number>``.
 */
async function readCodeFromGateway() {
    const params = new URLSearchParams(window.location.hash.slice(1));
    const response = await fetch(
        `http://127.0.0.1:${params.get("gw")}/last-sms?to=${encodeURIComponent(params.get("to"))}`
    );
    const { body } = await response.json();
    const match = body && body.match(/(?<!\d)\d{6}(?!\d)/);
    if (!match) {
        throw new Error(`No code in the SMS: ${body}`);
    }
    return match[0];
}

const signSteps = () => [
    {
        content: "The document is shown",
        trigger: ".o_esign_pdf_viewer.o_esign_pdf_ready canvas.o_esign_pdf_page",
    },
    { content: "Ask for the SMS code", trigger: "button.o_esign_send_code", run: "click" },
    {
        content: "Type the code received by SMS",
        trigger: ".o_esign_code_form:not(.d-none) input#o_esign_code",
        async run(helpers) {
            await helpers.edit(await readCodeFromGateway());
        },
    },
    { content: "Verify it", trigger: "button.o_esign_verify", run: "click" },
    {
        content: "Accept",
        trigger: ".o_esign_step_sign:not(.d-none) label[for=o_esign_consent]",
        run() {
            document.querySelector("#o_esign_consent").click();
        },
    },
    {
        content: "The typed name is the signature",
        trigger: ".o_esign_signature_pad.o_esign_signature_ready canvas.o_web_sign_signature",
    },
    { content: "Sign", trigger: ".o_esign_step_sign button.o_esign_sign", run: "click" },
    {
        content: "Done",
        trigger: ".o_esign_status[data-validity=completed]",
    },
];

registry.category("web_tour.tours").add("o2s_esign_browser_key", {
    steps: () => [
        ...signSteps(),
        {
            content: "The signed PDF carries the certificate of exactly the key this page made",
            trigger: ".o_esign_status .o_esign_document a.o_esign_download",
            async run() {
                const generated = sessionStorage.getItem("o2s_test_generated");
                const spki = sessionStorage.getItem("o2s_test_spki");
                if (generated !== "P-256:false" || !spki) {
                    throw new Error(`No non-extractable P-256 key recorded: ${generated}`);
                }
                const link = document.querySelector(".o_esign_status a.o_esign_download");
                const bytes = new Uint8Array(await (await fetch(link.href)).arrayBuffer());
                let text = "";
                for (let i = 0; i < bytes.length; i++) {
                    text += String.fromCharCode(bytes[i]);
                }
                if (!text.toLowerCase().includes(spki)) {
                    throw new Error("The signed PDF does not hold the page's public key");
                }
                document.body.dataset.o2sTestSpki = spki;
            },
        },
    ],
});

registry.category("web_tour.tours").add("o2s_esign_browser_key_fallback", {
    steps: () => [
        {
            content: "This browser has no WebCrypto",
            trigger: ".o_esign_signer_page",
            run() {
                if (window.crypto && window.crypto.subtle) {
                    throw new Error("crypto.subtle was not removed");
                }
            },
        },
        ...signSteps(),
    ],
});
