/** @odoo-module **/
/* Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0). */

import publicWidget from "@web/legacy/js/public/public_widget";
import { loadPDFJSAssets } from "@web/libs/pdfjs";
import { debounce } from "@web/core/utils/timing";
import { _t } from "@web/core/l10n/translation";
import { MAX_TEXT_LENGTH, signerFields } from "./signer_fields";
import { signaturePadState } from "./signature_pad";

const MIN_ZOOM = 0.5;
const MAX_ZOOM = 3;

/**
 * Renders a PDF of the signing page into canvases that fit the width of their container
 * (a 375 px phone as well as a desktop), page by page as they scroll into view, with zoom
 * buttons. The file is fetched once, from the token-checked document route.
 *
 * Issue 17: the signer's own fields (``data-fields``) are drawn over the pages at their
 * rectangles (PDF points from the page's bottom-left corner, placed with pdf.js's viewport: its
 * scale and the page's rotation), so they scale with the page; text fields are inputs,
 * checkboxes are ticked, date and initials show what will be written, signature boxes show
 * "Sign here" then the signature of the pad.
 */
publicWidget.registry.O2sEsignPdfViewer = publicWidget.Widget.extend({
    selector: ".o_esign_pdf_viewer",
    events: {
        "click .o_esign_zoom_in": "_onZoomIn",
        "click .o_esign_zoom_out": "_onZoomOut",
    },

    async start() {
        await this._super(...arguments);
        this.zoom = 1;
        this.pages = [];
        this.fields = signerFields.forDocument(this.el);
        this.pagesEl = this.el.querySelector(".o_esign_pdf_pages");
        this.zoomLevelEl = this.el.querySelector(".o_esign_zoom_level");
        this._onResize = debounce(() => this._rerender(), 200);
        try {
            await loadPDFJSAssets();
            const response = await fetch(this.el.dataset.url, { credentials: "same-origin" });
            if (!response.ok) {
                throw new Error(`HTTP ${response.status}`);
            }
            const data = new Uint8Array(await response.arrayBuffer());
            window.Util = window.pdfjsLib.Util;
            this.pdf = await window.pdfjsLib.getDocument({ data, isEvalSupported: false }).promise;
        } catch {
            this._showError();
            return;
        }
        this.pagesEl.replaceChildren();
        const name = this.el.dataset.name || "";
        for (let number = 1; number <= this.pdf.numPages; number++) {
            const page = await this.pdf.getPage(number);
            const canvas = document.createElement("canvas");
            canvas.className = "o_esign_pdf_page d-block";
            canvas.setAttribute("role", "img");
            canvas.setAttribute("aria-label", `${name} (${number}/${this.pdf.numPages})`);
            const wrap = document.createElement("div");
            wrap.className = "o_esign_pdf_page_wrap position-relative mx-auto mb-2";
            wrap.appendChild(canvas);
            this.pagesEl.appendChild(wrap);
            const item = { page, canvas, wrap, number, task: null, renderedKey: null };
            item.boxes = this._makeBoxes(item);
            this.pages.push(item);
        }
        this._unsubscribe = signerFields.subscribe(() => this._refreshBoxes());
        this.observer = new IntersectionObserver((entries) => this._onIntersect(entries), {
            root: null,
            rootMargin: "400px 0px",
        });
        this._layout();
        for (const item of this.pages) {
            this.observer.observe(item.canvas);
        }
        window.addEventListener("resize", this._onResize);
    },

    destroy() {
        window.removeEventListener("resize", this._onResize);
        this._unsubscribe?.();
        for (const item of this.pages) {
            for (const { field, el } of item.boxes || []) {
                signerFields.unregisterBox(field.id, el);
            }
        }
        this.observer?.disconnect();
        this.pdf?.destroy();
        this._super(...arguments);
    },

    //--------------------------------------------------------------------------
    // Rendering
    //--------------------------------------------------------------------------

    _scaleFor(page) {
        const available = Math.max(200, this.pagesEl.clientWidth - 16);
        const base = page.getViewport({ scale: 1 });
        return (available / base.width) * this.zoom;
    },

    /** Size every canvas for the current width and zoom (cheap: no drawing). */
    _layout() {
        for (const item of this.pages) {
            const viewport = item.page.getViewport({ scale: this._scaleFor(item.page) });
            item.viewport = viewport;
            item.canvas.style.width = `${Math.floor(viewport.width)}px`;
            item.canvas.style.height = `${Math.floor(viewport.height)}px`;
            item.wrap.style.width = item.canvas.style.width;
            this._placeBoxes(item);
        }
        this.zoomLevelEl.textContent = `${Math.round(this.zoom * 100)}%`;
    },

    _onIntersect(entries) {
        for (const entry of entries) {
            const item = this.pages.find((p) => p.canvas === entry.target);
            item.visible = entry.isIntersecting;
            if (item.visible) {
                this._renderPage(item);
            }
        }
    },

    async _renderPage(item) {
        const key = `${item.viewport.width}x${item.viewport.height}`;
        if (item.renderedKey === key) {
            return;
        }
        item.task?.cancel();
        const ratio = window.devicePixelRatio || 1;
        const canvas = item.canvas;
        canvas.width = Math.floor(item.viewport.width * ratio);
        canvas.height = Math.floor(item.viewport.height * ratio);
        item.task = item.page.render({
            canvasContext: canvas.getContext("2d"),
            viewport: item.viewport,
            transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : null,
        });
        try {
            await item.task.promise;
            item.renderedKey = key;
        } catch (error) {
            if (error?.name !== "RenderingCancelledException") {
                this._showError();
            }
            return;
        }
        if (this.pages.every((p) => p.renderedKey) || this.pages[0].renderedKey) {
            this.el.classList.add("o_esign_pdf_ready");
        }
    },

    _rerender() {
        if (!this.pages.length) {
            return;
        }
        this._layout();
        for (const item of this.pages) {
            if (item.visible) {
                this._renderPage(item);
            }
        }
    },

    //--------------------------------------------------------------------------
    // The signer's fields (issue 17)
    //--------------------------------------------------------------------------

    /** The boxes of this page's fields, created once (placed by _placeBoxes). */
    _makeBoxes(item) {
        const boxes = [];
        for (const field of this.fields.filter((f) => f.page === item.number)) {
            const el = document.createElement("div");
            el.className = `o_esign_field o_esign_field_${field.type} position-absolute`;
            el.dataset.fieldId = field.id;
            el.dataset.order = field.order;
            if (field.required) {
                el.classList.add("o_esign_field_required");
            }
            const label = field.label || "";
            if (field.type === "text") {
                const input = document.createElement("input");
                input.type = "text";
                input.className = "o_esign_field_input";
                input.maxLength = MAX_TEXT_LENGTH;
                input.required = field.required;
                input.value = signerFields.values.get(field.id) || "";
                input.placeholder = label;
                input.setAttribute("aria-label", label || _t("Text to fill in"));
                input.addEventListener("input", () => signerFields.setValue(field.id, input.value));
                el.appendChild(input);
            } else if (field.type === "checkbox") {
                const button = document.createElement("button");
                button.type = "button";
                button.className = "o_esign_field_check";
                button.setAttribute("role", "checkbox");
                button.setAttribute("aria-label", label || _t("Tick"));
                button.addEventListener("click", () =>
                    signerFields.setValue(field.id, !signerFields.values.get(field.id))
                );
                el.appendChild(button);
            } else if (field.type === "signature") {
                const button = document.createElement("button");
                button.type = "button";
                button.className = "o_esign_field_sign";
                button.setAttribute("aria-label", label || _t("Sign here"));
                button.addEventListener("click", () => this._goToSignaturePad());
                el.appendChild(button);
            } else {
                const text = document.createElement("span");
                text.className = "o_esign_field_preview";
                const page = this.el.closest(".o_esign_signer_page")?.dataset || {};
                text.textContent = field.type === "date" ? page.today || "" : page.initials || "";
                text.title = field.type === "date"
                    ? _t("Today's date, written when you sign")
                    : _t("Your initials, written when you sign");
                el.appendChild(text);
            }
            item.wrap.appendChild(el);
            signerFields.registerBox(field.id, el);
            boxes.push({ field, el });
        }
        this._refreshBoxes(boxes);
        return boxes;
    },

    /** Each box at its rectangle on the page as shown (scale and rotation of the viewport). */
    _placeBoxes(item) {
        if (!item.boxes?.length) {
            return;
        }
        const [x0, y0] = item.page.view;
        for (const { field, el } of item.boxes) {
            const [x1, y1, x2, y2] = field.rect;
            const rect = item.viewport.convertToViewportRectangle([
                x1 + x0, y1 + y0, x2 + x0, y2 + y0,
            ]);
            const width = Math.abs(rect[2] - rect[0]);
            const height = Math.abs(rect[3] - rect[1]);
            Object.assign(el.style, {
                left: `${Math.min(rect[0], rect[2])}px`,
                top: `${Math.min(rect[1], rect[3])}px`,
                width: `${width}px`,
                height: `${height}px`,
                fontSize: `${Math.max(8, Math.min(16, Math.min(height, width) * 0.55))}px`,
            });
        }
    },

    /** Show each box's state: done or to do, the tick, the signature. */
    _refreshBoxes(boxes) {
        const list = boxes || this.pages.flatMap((item) => item.boxes || []);
        const signature = signaturePadState.signature;
        const signed = signerFields.signatureDone();
        for (const { field, el } of list) {
            const done = signerFields.isDone(field);
            el.classList.toggle("o_esign_field_done", done);
            el.classList.toggle("o_esign_field_todo", field.required && !done);
            if (field.type === "checkbox") {
                const ticked = signerFields.values.get(field.id) === true;
                const button = el.querySelector(".o_esign_field_check");
                button.setAttribute("aria-checked", ticked ? "true" : "false");
                button.textContent = ticked ? "✓" : "";
            } else if (field.type === "signature") {
                const button = el.querySelector(".o_esign_field_sign");
                let image = "";
                try {
                    image = signed ? signature.getSignatureImage() : "";
                } catch {
                    image = "";
                }
                if (image && image.startsWith("data:image/")) {
                    const img = button.querySelector("img") || document.createElement("img");
                    img.alt = _t("Your signature");
                    img.src = image;
                    button.replaceChildren(img);
                } else {
                    button.textContent = _t("Sign here");
                }
            }
        }
    },

    /** A signature box leads to the signature pad (or to the panel, before the SMS code). */
    _goToSignaturePad() {
        const pad = document.querySelector(".o_esign_step_sign:not(.d-none) .o_esign_signature");
        const target = pad || document.querySelector(".o_esign_panel");
        target?.scrollIntoView({ behavior: "smooth", block: "center" });
    },

    _showError() {
        this.el.querySelector(".o_esign_pdf_loading")?.classList.add("d-none");
        this.el.querySelector(".o_esign_pdf_error")?.classList.remove("d-none");
        this.el.classList.add("o_esign_pdf_failed");
    },

    //--------------------------------------------------------------------------
    // Handlers
    //--------------------------------------------------------------------------

    _onZoomIn() {
        this.zoom = Math.min(MAX_ZOOM, Math.round((this.zoom + 0.25) * 100) / 100);
        this._rerender();
    },

    _onZoomOut() {
        this.zoom = Math.max(MIN_ZOOM, Math.round((this.zoom - 0.25) * 100) / 100);
        this._rerender();
    },
});
