/** @odoo-module **/
/* Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0). */

import { registry } from "@web/core/registry";

/**
 * Issue 17 on a phone, in French: the signer's fields are drawn over page 1 of the document;
 * once the SMS code is verified the page scrolls to them; Sign waits while "Lieu" is empty, the
 * box is not ticked or the signature pad is empty; "Champ suivant" leads from field to field.
 * Opened with ``#gw=<port>&to=<number>`` (the SMS gateway stand-in, as the other tours).
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

/** Wait (animation frames, at most a few seconds) until ``check()``: smooth scrolling. */
async function waitUntil(check, what, timeout = 5000) {
    const start = Date.now();
    while (!check()) {
        if (Date.now() - start > timeout) {
            throw new Error(what);
        }
        await new Promise((resolve) => requestAnimationFrame(resolve));
    }
}

function inView(selector) {
    const el = document.querySelector(selector);
    if (!el) {
        return false;
    }
    const box = el.getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight && box.width > 0;
}

function signButton() {
    return document.querySelector(".o_esign_step_sign button.o_esign_sign");
}

/** A stroke on the signature pad, as a finger or a mouse draws it (pointer events). */
async function drawOn(canvas) {
    const box = canvas.getBoundingClientRect();
    const point = (fx, fy) => ({
        clientX: box.left + box.width * fx,
        clientY: box.top + box.height * fy,
        bubbles: true,
        cancelable: true,
        pointerId: 1,
        pointerType: "touch",
        isPrimary: true,
        button: 0,
        buttons: 1,
        pressure: 0.5,
    });
    canvas.dispatchEvent(new PointerEvent("pointerdown", point(0.1, 0.6)));
    for (let step = 1; step <= 12; step++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        canvas.dispatchEvent(
            new PointerEvent("pointermove", point(0.1 + step * 0.06, 0.6 - Math.sin(step) * 0.3))
        );
    }
    canvas.dispatchEvent(new PointerEvent("pointerup", { ...point(0.85, 0.5), buttons: 0 }));
}

registry.category("web_tour.tours").add("o2s_esign_fields_phone", {
    steps: () => [
        {
            content: "The page is in French and the document is shown",
            trigger: "html[lang=fr-FR] .o_esign_pdf_viewer.o_esign_pdf_ready canvas.o_esign_pdf_page",
        },
        {
            content: "The signer's three fields are on page 1, scaled with the page",
            trigger: ".o_esign_pdf_page_wrap .o_esign_field_text input",
            run() {
                const wrap = document.querySelector(".o_esign_pdf_page_wrap");
                const page = wrap.getBoundingClientRect();
                const boxes = wrap.querySelectorAll(".o_esign_field");
                if (boxes.length !== 3) {
                    throw new Error(`${boxes.length} boxes on page 1, 3 expected`);
                }
                if (page.width > window.innerWidth) {
                    throw new Error(`Page ${page.width}px wide on a ${window.innerWidth}px screen`);
                }
                // the signature box: 180 x 60 points at x=320, y=60 from the bottom-left corner
                const scale = page.width / 595.28;
                const sign = wrap.querySelector(".o_esign_field_signature").getBoundingClientRect();
                const expected = [320 * scale, page.height - 120 * scale, 180 * scale, 60 * scale];
                const found = [sign.left - page.left, sign.top - page.top, sign.width, sign.height];
                if (found.some((value, index) => Math.abs(value - expected[index]) > 3)) {
                    throw new Error(`Signature box at ${found}, expected ${expected}`);
                }
                if (document.documentElement.scrollWidth > window.innerWidth + 1) {
                    throw new Error("The page is wider than the screen");
                }
            },
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
            content: "The page scrolls to the first field: Lieu",
            trigger: ".o_esign_step_sign:not(.d-none) .o_web_sign_name_group label:contains(Nom complet)",
            async run() {
                await waitUntil(
                    () => inView(".o_esign_field_text"),
                    "The first field was not brought into view"
                );
            },
        },
        {
            content: "Sign waits for the fields, and says why",
            trigger: ".o_esign_step_sign .o_esign_fields_hint:not(.d-none)",
            run() {
                if (!signButton().disabled) {
                    throw new Error("Sign is enabled before the fields are filled");
                }
            },
        },
        { content: "Type the place", trigger: ".o_esign_field_text input", run: "edit Paris" },
        {
            content: "Still waiting for the box",
            trigger: ".o_esign_field_text.o_esign_field_done",
            run() {
                if (!signButton().disabled) {
                    throw new Error("Sign is enabled while the box is not ticked");
                }
            },
        },
        {
            content: "Next field: the checkbox",
            trigger: ".o_esign_jump button.o_esign_next_field",
            async run(helpers) {
                await helpers.click();
                await waitUntil(
                    () => inView(".o_esign_field_checkbox"),
                    "Next field did not lead to the checkbox"
                );
            },
        },
        { content: "Tick it", trigger: ".o_esign_field_checkbox button", run: "click" },
        {
            content: "Ticked",
            trigger: ".o_esign_field_checkbox.o_esign_field_done button[aria-checked=true]",
        },
        {
            content: "Accept",
            trigger: ".o_esign_step_sign:not(.d-none) #o_esign_consent",
            run() {
                document.querySelector("#o_esign_consent").click();
            },
        },
        {
            content: "Draw the signature rather than the typed name",
            trigger: ".o_esign_step_sign a.o_web_sign_draw_button",
            run: "click",
        },
        {
            content: "An empty pad: Sign waits, the box says where to sign",
            trigger: ".o_esign_step_sign a.o_web_sign_draw_button.active",
            async run() {
                await waitUntil(() => signButton().disabled, "Sign is enabled with an empty pad");
                const box = document.querySelector(".o_esign_field_signature button");
                if (box.querySelector("img") || !box.textContent.trim()) {
                    throw new Error("The signature box does not say where to sign");
                }
            },
        },
        {
            content: "Draw",
            trigger: ".o_esign_step_sign canvas.o_web_sign_signature",
            async run() {
                await drawOn(document.querySelector(".o_esign_step_sign canvas.o_web_sign_signature"));
            },
        },
        {
            content: "The signature shows in its box on the page",
            trigger: ".o_esign_field_signature.o_esign_field_done button img",
        },
        {
            content: "Sign is enabled",
            trigger: ".o_esign_step_sign button.o_esign_sign:enabled",
            run: "click",
        },
        { content: "Done", trigger: "html[lang=fr-FR] .o_esign_status[data-validity=completed]" },
    ],
});
