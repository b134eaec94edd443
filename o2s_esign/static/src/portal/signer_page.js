/** @odoo-module **/
/* Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0). */

import publicWidget from "@web/legacy/js/public/public_widget";
import { rpc } from "@web/core/network/rpc";
import { SIGNATURE_TYPES, signaturePadState } from "./signature_pad";
import { browserKeySignatures } from "./signer_key";

/**
 * The signing panel: send the SMS code, verify it, then consent and sign; refuse with a
 * reason at any time. Every text comes from the page (rendered in the signer's language) or
 * from the server's answers.
 */
publicWidget.registry.O2sEsignSignerPage = publicWidget.Widget.extend({
    selector: ".o_esign_signer_page",
    events: {
        "click .o_esign_send_code": "_onSendCode",
        "submit .o_esign_code_form": "_onVerify",
        "click .o_esign_sign": "_onSign",
    },

    start() {
        const data = this.el.dataset;
        this.signerId = data.signerId;
        this.token = data.token;
        this.consentSha256 = data.consentSha256;
        this.alertEl = this.el.querySelector(".o_esign_alert");
        this._startCooldown(parseInt(data.cooldown || "0", 10));
        this._watchPanel();
        return this._super(...arguments);
    },

    destroy() {
        clearInterval(this.cooldownTimer);
        this.panelObserver?.disconnect();
        this._super(...arguments);
    },

    //--------------------------------------------------------------------------
    // Helpers
    //--------------------------------------------------------------------------

    _url(action) {
        return `/esign/action/${this.signerId}/${action}`;
    },

    async _call(action, params, button) {
        this._hideAlert();
        if (button) {
            button.disabled = true;
        }
        try {
            return await rpc(this._url(action), {
                token: this.token,
                csrf_token: odoo.csrf_token,
                ...params,
            });
        } catch {
            return { error: this._text(".o_esign_msg_network"), reload: false };
        } finally {
            if (button && !button.dataset.keepDisabled) {
                button.disabled = false;
            }
        }
    },

    _text(selector) {
        return this.el.querySelector(selector)?.textContent.trim() || "";
    },

    _showAlert(message, kind = "danger") {
        this.alertEl.textContent = message;
        this.alertEl.classList.remove("d-none", "alert-danger", "alert-success", "alert-info");
        this.alertEl.classList.add(`alert-${kind}`);
        this.alertEl.setAttribute("role", kind === "danger" ? "alert" : "status");
    },

    _hideAlert() {
        this.alertEl.classList.add("d-none");
        this.alertEl.textContent = "";
    },

    _toggle(selector, visible) {
        this.el.querySelector(selector)?.classList.toggle("d-none", !visible);
    },

    _startCooldown(seconds) {
        const button = this.el.querySelector(".o_esign_send_code");
        const hint = this.el.querySelector(".o_esign_cooldown");
        clearInterval(this.cooldownTimer);
        if (!button || !hint) {
            return;
        }
        let remaining = seconds;
        const tick = () => {
            if (remaining <= 0) {
                clearInterval(this.cooldownTimer);
                delete button.dataset.keepDisabled;
                button.disabled = false;
                hint.classList.add("d-none");
                return;
            }
            button.dataset.keepDisabled = "1";
            button.disabled = true;
            hint.textContent = this._text(".o_esign_msg_cooldown").replace("%s", remaining);
            hint.classList.remove("d-none");
            remaining -= 1;
        };
        tick();
        if (remaining >= 0 && seconds > 0) {
            this.cooldownTimer = setInterval(tick, 1000);
        }
    },

    /** On small screens, a bar leads to the panel; hide it once the panel is in view. */
    _watchPanel() {
        const panel = this.el.querySelector(".o_esign_panel");
        const jump = this.el.querySelector(".o_esign_jump");
        if (!panel || !jump || !window.IntersectionObserver) {
            return;
        }
        this.panelObserver = new IntersectionObserver((entries) => {
            jump.classList.toggle("o_esign_jump_hidden", entries.some((e) => e.isIntersecting));
        });
        this.panelObserver.observe(panel);
    },

    _handleFailure(result) {
        this._showAlert(result.error);
        if (result.reload) {
            this._toggle(".o_esign_step_identity", false);
            this._toggle(".o_esign_step_sign", false);
            this._toggle(".o_esign_reload", true);
        }
    },

    //--------------------------------------------------------------------------
    // Handlers
    //--------------------------------------------------------------------------

    async _onSendCode(ev) {
        const button = ev.currentTarget;
        const result = await this._call("send_code", {}, button);
        if (result.error) {
            this._handleFailure(result);
            if (result.retry_after) {
                this._startCooldown(result.retry_after);
            }
            return;
        }
        this._showAlert(result.message, "success");
        this._toggle(".o_esign_code_form", true);
        this._startCooldown(result.retry_after || 60);
        const input = this.el.querySelector(".o_esign_code_input");
        input.value = "";
        input.focus();
    },

    async _onVerify(ev) {
        ev.preventDefault();
        const form = ev.currentTarget;
        const input = form.querySelector(".o_esign_code_input");
        if (!form.reportValidity()) {
            return;
        }
        const result = await this._call(
            "verify_code",
            { code: input.value },
            form.querySelector(".o_esign_verify")
        );
        if (result.error) {
            this._handleFailure(result);
            input.select();
            return;
        }
        this._toggle(".o_esign_step_identity", false);
        this._toggle(".o_esign_step_sign", true);
        // The signature area was hidden: size it now that it has a width.
        signaturePadState.signature?.resetSignature();
        this.el.querySelector(".o_esign_consent")?.focus();
    },

    async _onSign(ev) {
        const button = ev.currentTarget;
        const consent = this.el.querySelector(".o_esign_consent");
        if (!consent.checked) {
            consent.setCustomValidity(this._text(".o_esign_msg_consent"));
            consent.reportValidity();
            consent.addEventListener("change", () => consent.setCustomValidity(""), { once: true });
            return;
        }
        const signature = signaturePadState.signature;
        if (!signature || signature.isSignatureEmpty || !signature.name?.trim()) {
            this._showAlert(this._text(".o_esign_msg_empty_signature"));
            return;
        }
        const image = signature.getSignatureImage();
        button.dataset.keepDisabled = "1";
        button.disabled = true;
        // The key made in this browser signs when it can; otherwise the server-side key does.
        const keySignatures = await browserKeySignatures((action, params) =>
            this._call(action, params)
        );
        const result = await this._call(
            "sign",
            {
                consent: true,
                consent_sha256: this.consentSha256,
                name: signature.name,
                signature: image.split(",")[1] || "",
                signature_type: SIGNATURE_TYPES[signature.mode] || "typed",
                ...(keySignatures ? { key_signatures: keySignatures } : {}),
            },
            button
        );
        if (result.error) {
            delete button.dataset.keepDisabled;
            button.disabled = false;
            if (result.reset_code) {
                this._toggle(".o_esign_step_sign", false);
                this._toggle(".o_esign_step_identity", true);
            }
            this._handleFailure(result);
            return;
        }
        this._showAlert(result.message || this._text(".o_esign_msg_signed"), "success");
        window.location.reload();
    },
});

/**
 * Refusing: the first click shows the reason field, the next one sends the form (a plain
 * POST with its CSRF token) once a reason is given.
 */
publicWidget.registry.O2sEsignRefuseForm = publicWidget.Widget.extend({
    selector: ".o_esign_refuse_form",
    events: {
        submit: "_onRefuse",
    },

    _onRefuse(ev) {
        const form = ev.currentTarget;
        const reasonBlock = form.querySelector(".o_esign_refuse_reason");
        const reason = form.querySelector("textarea[name='reason']");
        if (reasonBlock.classList.contains("d-none")) {
            ev.preventDefault();
            reasonBlock.classList.remove("d-none");
            reason.required = true;
            reason.focus();
            return;
        }
        if (!reason.value.trim()) {
            ev.preventDefault();
            reason.value = "";
            reason.reportValidity();
            return;
        }
        // Native POST (CSRF token in the form); no double submission.
        setTimeout(() => (form.querySelector(".o_esign_refuse").disabled = true));
    },
});
