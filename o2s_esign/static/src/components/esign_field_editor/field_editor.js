/** @odoo-module **/
// Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

import { Component, onMounted, onWillStart, onWillUnmount, useRef, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { loadPDFJSAssets } from "@web/libs/pdfjs";
import { Dialog } from "@web/core/dialog/dialog";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

export const FIELD_SIZES = {
    signature: [160, 50],
    initials: [60, 30],
    date: [100, 20],
    text: [160, 20],
    checkbox: [14, 14],
};
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const MIN_SIZE = 8;

/**
 * Placement editor of one document of the send wizard: every page rendered with pdf.js, a box
 * per field (signature, initials, date, text, checkbox) added for the chosen signer, dragged
 * and resized with pointer events (mouse, finger, pen), assigned to a signer (one colour per
 * signer), deleted. Boxes are kept in PDF points from the page's bottom-left corner (the page's
 * rotation and the scale handled by pdf.js's viewport); saved on the wizard's document line.
 */
export class EsignFieldEditor extends Component {
    static template = "o2s_esign.EsignFieldEditor";
    static components = { Dialog };
    static props = { lineId: Number, title: String, onSave: Function, close: Function };

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.pagesRef = useRef("pages");
        this.lineId = this.props.lineId;
        this.state = useState({
            loading: true, error: false, signers: [], placements: [], anchors: [],
            signer: 1, type: "signature", selected: null, canSaveTemplate: false, pageCount: 0,
        });
        this.pages = [];
        this.fieldTypes = [
            ["signature", _t("Signature")],
            ["initials", _t("Initials")],
            ["date", _t("Date")],
            ["text", _t("Text")],
            ["checkbox", _t("Checkbox")],
        ];
        onWillStart(async () => {
            const data = await this.orm.call(
                "o2s.esign.request.wizard.document", "esign_field_editor_data", [[this.lineId]]);
            Object.assign(this.state, {
                signers: data.signers, placements: data.placements, anchors: data.anchors,
                canSaveTemplate: data.can_save_template,
            });
            this.data = data;
        });
        onMounted(() => this.loadPdf());
        this._onResize = () => this.renderPages();
        window.addEventListener("resize", this._onResize);
        onWillUnmount(() => window.removeEventListener("resize", this._onResize));
    }

    async loadPdf() {
        try {
            await loadPDFJSAssets();
            const response = await fetch(this.data.pdf_url, { credentials: "same-origin" });
            if (!response.ok) {
                throw new Error(`HTTP ${response.status}`);
            }
            const data = new Uint8Array(await response.arrayBuffer());
            window.Util = window.pdfjsLib.Util;
            this.pdf = await window.pdfjsLib.getDocument({ data, isEvalSupported: false }).promise;
            for (let number = 1; number <= this.pdf.numPages; number++) {
                this.pages.push({ page: await this.pdf.getPage(number), viewport: null });
            }
            this.state.pageCount = this.pdf.numPages;
            this.state.loading = false;
            await new Promise((resolve) => requestAnimationFrame(resolve));
            await this.renderPages();
        } catch {
            this.state.loading = false;
            this.state.error = true;
        }
    }

    async renderPages() {
        const container = this.pagesRef.el;
        if (!container || !this.pages.length) {
            return;
        }
        const width = Math.max(container.clientWidth - 8, 200);
        for (const [index, item] of this.pages.entries()) {
            const base = item.page.getViewport({ scale: 1 });
            item.viewport = item.page.getViewport({ scale: width / base.width });
            const canvas = container.querySelector(`canvas[data-page="${index + 1}"]`);
            if (!canvas) {
                continue;
            }
            canvas.width = Math.floor(item.viewport.width);
            canvas.height = Math.floor(item.viewport.height);
            canvas.style.width = `${item.viewport.width}px`;
            canvas.style.height = `${item.viewport.height}px`;
            await item.page.render({ canvasContext: canvas.getContext("2d"), viewport: item.viewport })
                .promise;
        }
        this.state.rendered = (this.state.rendered || 0) + 1;
    }

    // ---------------------------------------------------------------- geometry
    /** The box of a placement on its rendered page: {left, top, width, height} in CSS px. */
    boxStyle(placement) {
        const item = this.pages[placement.page - 1];
        if (!item || !item.viewport) {
            return "display: none;";
        }
        const [x0, y0] = item.page.view;
        const rect = item.viewport.convertToViewportRectangle([
            placement.x + x0, placement.y + y0,
            placement.x + x0 + placement.width, placement.y + y0 + placement.height,
        ]);
        const left = Math.min(rect[0], rect[2]);
        const top = Math.min(rect[1], rect[3]);
        const colour = this.colour(placement.signer);
        return `left: ${left}px; top: ${top}px; width: ${Math.abs(rect[2] - rect[0])}px; ` +
            `height: ${Math.abs(rect[3] - rect[1])}px; border-color: ${colour}; ` +
            `background-color: ${colour}33;`;
    }

    /** The PDF point (from the page's bottom-left corner) at a point of the rendered page. */
    toPdf(pageNumber, px, py) {
        const item = this.pages[pageNumber - 1];
        const [x, y] = item.viewport.convertToPdfPoint(px, py);
        return [x - item.page.view[0], y - item.page.view[1]];
    }

    pageSize(pageNumber) {
        const [x0, y0, x1, y1] = this.pages[pageNumber - 1].page.view;
        return [x1 - x0, y1 - y0];
    }

    clamp(placement) {
        const [width, height] = this.pageSize(placement.page);
        placement.width = Math.min(Math.max(placement.width, MIN_SIZE), width);
        placement.height = Math.min(Math.max(placement.height, MIN_SIZE), height);
        placement.x = Math.min(Math.max(placement.x, 0), width - placement.width);
        placement.y = Math.min(Math.max(placement.y, 0), height - placement.height);
        for (const key of ["x", "y", "width", "height"]) {
            placement[key] = Math.round(placement[key] * 100) / 100;
        }
    }

    colour(signer) {
        return COLOURS[(signer - 1) % COLOURS.length];
    }

    signerName(number) {
        const signer = this.state.signers.find((s) => s.number === number);
        return signer ? signer.name : _t("Signer %s", number);
    }

    typeLabel(type) {
        return (this.fieldTypes.find(([key]) => key === type) || [type, type])[1];
    }

    // ------------------------------------------------------------------ editing
    /** A tap or click on a page (not a scroll) adds a box of the chosen type for the chosen
     * signer there. */
    onPageClick(ev, pageNumber) {
        if (ev.target.closest(".o_esign_field_box")) {
            return;
        }
        const canvasRect = ev.currentTarget.getBoundingClientRect();
        const [x, y] = this.toPdf(pageNumber, ev.clientX - canvasRect.left, ev.clientY - canvasRect.top);
        const [width, height] = FIELD_SIZES[this.state.type];
        const placement = {
            signer: Number(this.state.signer), type: this.state.type, page: pageNumber,
            x, y: y - height, width, height, required: true, label: "",
        };
        this.clamp(placement);
        this.state.placements.push(placement);
        this.state.selected = this.state.placements.length - 1;
    }

    /** Drag (the box) or resize (its corner handle) with one pointer, captured. */
    onBoxPointerDown(ev, index, mode) {
        ev.preventDefault();
        ev.stopPropagation();
        this.state.selected = index;
        const placement = this.state.placements[index];
        const item = this.pages[placement.page - 1];
        const scale = item.viewport.scale;
        const rotation = ((item.viewport.rotation % 360) + 360) % 360;
        const start = { cx: ev.clientX, cy: ev.clientY, ...placement };
        const target = ev.currentTarget;
        target.setPointerCapture?.(ev.pointerId);
        const onMove = (moveEv) => {
            // screen movement to PDF movement (y goes up in PDF, the page may be rotated)
            let dx = (moveEv.clientX - start.cx) / scale;
            let dy = -(moveEv.clientY - start.cy) / scale;
            for (let turn = 0; turn < rotation / 90; turn++) {
                [dx, dy] = [-dy, dx];
            }
            if (mode === "move") {
                placement.x = start.x + dx;
                placement.y = start.y + dy;
            } else {
                placement.width = start.width + dx;
                placement.height = start.height - dy;
                placement.y = start.y + dy;
                if (placement.height < MIN_SIZE) {
                    placement.y -= MIN_SIZE - placement.height;
                }
            }
            this.clamp(placement);
        };
        const onUp = () => {
            target.removeEventListener("pointermove", onMove);
            target.removeEventListener("pointerup", onUp);
            target.removeEventListener("pointercancel", onUp);
        };
        target.addEventListener("pointermove", onMove);
        target.addEventListener("pointerup", onUp);
        target.addEventListener("pointercancel", onUp);
    }

    onSelectedSignerChange(ev) {
        if (this.state.selected !== null) {
            this.state.placements[this.state.selected].signer = Number(ev.target.value);
        }
    }

    onSelectedRequiredChange(ev) {
        if (this.state.selected !== null) {
            this.state.placements[this.state.selected].required = ev.target.checked;
        }
    }

    onSelectedLabelChange(ev) {
        if (this.state.selected !== null) {
            this.state.placements[this.state.selected].label = ev.target.value;
        }
    }

    deleteSelected() {
        if (this.state.selected !== null) {
            this.state.placements.splice(this.state.selected, 1);
            this.state.selected = null;
        }
    }

    useAnchors() {
        for (const anchor of this.state.anchors.filter((a) => a.found !== false)) {
            this.state.placements.push({
                signer: anchor.signer, type: anchor.type, page: anchor.page, x: anchor.x,
                y: anchor.y, width: anchor.width, height: anchor.height, required: true, label: "",
            });
        }
    }

    get foundAnchors() {
        return this.state.anchors.filter((a) => a.found !== false);
    }

    get missingAnchors() {
        return this.state.anchors.filter((a) => a.found === false);
    }

    // ------------------------------------------------------------------ saving
    async onSave() {
        await this.props.onSave(this.state.placements.map((placement) => ({ ...placement })));
        this.props.close();
    }

    async onSaveTemplate() {
        await this.orm.call("o2s.esign.field.template", "esign_save_from_editor", [
            this.data.document_type_id,
            this.state.placements,
        ]);
        this.notification.add(
            _t("These fields will be placed on the next documents of type %s.", this.data.document_type),
            { type: "success" }
        );
    }
}

/**
 * "Place fields" on a document line of the send wizard: the wizard is saved (the line needs its
 * id for the preview), the editor opens over it (a dialog of its own: an action would replace
 * the wizard's dialog), and the placements come back into the line, sent with the wizard.
 */
export class EsignPlaceFieldsButton extends Component {
    static template = "o2s_esign.EsignPlaceFieldsButton";
    static props = { ...standardWidgetProps };

    setup() {
        this.dialog = useService("dialog");
    }

    get count() {
        return (this.props.record.data.field_placements || []).length;
    }

    async onClick() {
        const root = this.props.record.model.root;
        const attachmentId = this.props.record.data.attachment_id?.id;
        if (!(await root.save())) {
            return;
        }
        // the save reloads the wizard: its lines are new records
        const record = root.data.document_line_ids.records.find(
            (line) => line.data.attachment_id?.id === attachmentId
        );
        if (!record?.resId) {
            return;
        }
        this.dialog.add(EsignFieldEditor, {
            lineId: record.resId,
            title: _t("Place the fields of %s", record.data.name || ""),
            onSave: async (placements) => {
                await record.update({ field_placements: placements });
            },
        });
    }
}

registry.category("view_widgets").add("o2s_esign_place_fields", {
    component: EsignPlaceFieldsButton,
});
