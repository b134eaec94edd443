/** @odoo-module **/
/* Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0). */

import { Component, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { NameAndSignature } from "@web/core/signature/name_and_signature";

/**
 * The signature of the signing page, shared with its public widget (signer_page.js):
 * ``signaturePadState.signature`` holds the NameAndSignature state (name, mode,
 * isSignatureEmpty, getSignatureImage(), resetSignature()); ``signaturePadState.listeners``
 * are called at each change of the signature.
 */
export const signaturePadState = { signature: null, listeners: new Set() };

/** NameAndSignature's modes, as the server records them. */
export const SIGNATURE_TYPES = { auto: "typed", draw: "drawn", load: "uploaded" };

export class EsignSignaturePad extends Component {
    static template = "o2s_esign.SignaturePad";
    static components = { NameAndSignature };
    static props = { defaultName: { type: String, optional: true } };

    setup() {
        this.signature = useState({
            name: this.props.defaultName || "",
            mode: "auto",
            isSignatureEmpty: true,
            getSignatureImage: () => "",
            resetSignature: () => {},
        });
        signaturePadState.signature = this.signature;
    }

    onSignatureChange(mode) {
        this.signature.mode = mode;
        // issue 17: the signature boxes on the documents show the signature as it changes
        for (const callback of signaturePadState.listeners) {
            callback(this.signature);
        }
    }
}

registry.category("public_components").add("o2s_esign.signature_pad", EsignSignaturePad);
