/** @odoo-module **/
// Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * The placeholders of the signing-page text (a list of {name, label}), each a button that
 * inserts "{{ name }}" where the cursor is in the introduction's editor (at its end when the
 * cursor is elsewhere). The mouse-down does not take the focus away from the editor.
 */
export class EsignPlaceholdersField extends Component {
    static template = "o2s_esign.EsignPlaceholdersField";
    static props = { ...standardFieldProps };

    setup() {
        this.notification = useService("notification");
    }

    get placeholders() {
        return this.props.record.data[this.props.name] || [];
    }

    text(placeholder) {
        return `{{ ${placeholder.name} }}`;
    }

    onMouseDown(ev) {
        ev.preventDefault(); // keep the editor's selection
    }

    insert(placeholder) {
        const text = this.text(placeholder);
        const editable = document.querySelector(
            ".o_field_widget[name='signing_page_intro'] [contenteditable='true']"
        );
        if (!editable) {
            this.notification.add(_t("Click in the introduction first, then on the placeholder."), {
                type: "warning",
            });
            return;
        }
        const selection = document.getSelection();
        const inside = selection.rangeCount && editable.contains(selection.anchorNode);
        editable.focus();
        if (!inside) {
            const range = document.createRange();
            const last = editable.lastElementChild || editable;
            range.selectNodeContents(last);
            range.collapse(false);
            selection.removeAllRanges();
            selection.addRange(range);
        }
        document.execCommand("insertText", false, text);
    }
}

export const esignPlaceholdersField = {
    component: EsignPlaceholdersField,
    supportedTypes: ["json"],
};

registry.category("fields").add("o2s_esign_placeholders", esignPlaceholdersField);
