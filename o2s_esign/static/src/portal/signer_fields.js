/** @odoo-module **/
/* Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0). */

import { _t } from "@web/core/l10n/translation";
import { signaturePadState } from "./signature_pad";

/** What a signer may type in a text field (MAX_TEXT_LENGTH of the field model). */
export const MAX_TEXT_LENGTH = 200;
/** How the server stores a ticked checkbox (FIELD_CHECKED of the signer model). */
const CHECKED = "1";

/**
 * The signer's fields on the documents (issue 17), shared by the PDF viewers (which draw the
 * boxes over their pages) and the signing panel (Next field, the Sign button, the values it
 * posts). Read once from the page: each viewer's ``data-fields`` (the server gives this
 * signer's fields only, with ``order``, the order in which they are filled).
 *
 * A text or checkbox field holds what the signer typed or ticked; a signature box is done once
 * the signature pad holds a signature; date and initials boxes are filled by the server.
 */
export const signerFields = {
    loaded: false,
    fields: [], // sorted by order
    byId: new Map(),
    values: new Map(), // id -> text | boolean (text and checkbox fields)
    boxes: new Map(), // id -> [box elements]
    listeners: new Set(),
    scrollWhenDrawn: null, // a field id

    load(root = document) {
        if (this.loaded) {
            return;
        }
        this.loaded = true;
        for (const viewer of root.querySelectorAll(".o_esign_pdf_viewer[data-fields]")) {
            let list = [];
            try {
                list = JSON.parse(viewer.dataset.fields) || [];
            } catch {
                list = [];
            }
            for (const field of list) {
                this.fields.push(field);
                this.byId.set(field.id, field);
                if (field.type === "text") {
                    this.values.set(field.id, field.value || "");
                } else if (field.type === "checkbox") {
                    this.values.set(field.id, field.value === CHECKED);
                }
            }
        }
        this.fields.sort((a, b) => a.order - b.order);
    },

    forDocument(documentEl) {
        this.load();
        const list = documentEl.dataset.fields ? JSON.parse(documentEl.dataset.fields) : [];
        return list.map((field) => this.byId.get(field.id)).filter(Boolean);
    },

    signatureDone() {
        const signature = signaturePadState.signature;
        return Boolean(signature && !signature.isSignatureEmpty && signature.name?.trim());
    },

    isDone(field) {
        switch (field.type) {
            case "text":
                return Boolean((this.values.get(field.id) || "").trim());
            case "checkbox":
                return this.values.get(field.id) === true;
            case "signature":
                return this.signatureDone();
            default:
                return true; // date and initials: written by the server
        }
    },

    /** The required fields not done yet, in the order they are filled. */
    pending() {
        return this.fields.filter((field) => field.required && !this.isDone(field));
    },

    setValue(id, value) {
        this.values.set(id, value);
        this.notify();
    },

    /** What the signing routes receive: {"<id>": text | boolean} for text and checkboxes. */
    postedValues() {
        const posted = {};
        for (const [id, value] of this.values) {
            posted[String(id)] = typeof value === "string" ? value.trim() : value;
        }
        return posted;
    },

    registerBox(id, el) {
        if (!this.boxes.has(id)) {
            this.boxes.set(id, []);
        }
        this.boxes.get(id).push(el);
        if (this.scrollWhenDrawn === id) {
            // asked for before its document was drawn: once the viewer has placed it
            this.scrollWhenDrawn = null;
            requestAnimationFrame(() => this.scrollTo(this.byId.get(id)));
        }
    },

    unregisterBox(id, el) {
        const list = (this.boxes.get(id) || []).filter((box) => box !== el);
        this.boxes.set(id, list);
    },

    subscribe(callback) {
        this.listeners.add(callback);
        return () => this.listeners.delete(callback);
    },

    notify() {
        for (const callback of this.listeners) {
            callback();
        }
    },

    /** Scroll to a field's box (and focus its control); false when it is not drawn yet. */
    scrollTo(field) {
        const box = (this.boxes.get(field.id) || []).find((el) => el.isConnected);
        if (!box) {
            return false;
        }
        box.scrollIntoView({ behavior: "smooth", block: "center" });
        const control = box.querySelector("input, button");
        control?.focus({ preventScroll: true });
        return true;
    },

    /** Why Sign waits, or "" when every required field is done. */
    hint() {
        const pending = this.pending();
        if (!pending.length) {
            return "";
        }
        if (pending.every((field) => field.type === "signature")) {
            return _t("Type your name or draw your signature below before signing.");
        }
        return _t(
            "Fill in your fields on the documents before signing (%s left).",
            pending.length
        );
    },
};

// The signature pad tells every change (typed, drawn, cleared): the signature boxes follow.
signaturePadState.listeners.add(() => signerFields.notify());
