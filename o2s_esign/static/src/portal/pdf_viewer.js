/** @odoo-module **/
/* Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0). */

import publicWidget from "@web/legacy/js/public/public_widget";
import { loadPDFJSAssets } from "@web/libs/pdfjs";
import { debounce } from "@web/core/utils/timing";

const MIN_ZOOM = 0.5;
const MAX_ZOOM = 3;

/**
 * Renders a PDF of the signing page into canvases that fit the width of their container
 * (a 375 px phone as well as a desktop), page by page as they scroll into view, with zoom
 * buttons. The file is fetched once, from the token-checked document route.
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
            canvas.className = "o_esign_pdf_page d-block mx-auto mb-2";
            canvas.setAttribute("role", "img");
            canvas.setAttribute("aria-label", `${name} (${number}/${this.pdf.numPages})`);
            this.pagesEl.appendChild(canvas);
            this.pages.push({ page, canvas, task: null, renderedKey: null });
        }
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
