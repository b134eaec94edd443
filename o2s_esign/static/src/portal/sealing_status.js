/** @odoo-module **/
/* Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0). */

import publicWidget from "@web/legacy/js/public/public_widget";

/** Every 3 seconds for 10 minutes, then every 30 seconds. */
const FAST_POLL_MS = 3000;
const FAST_POLLS = 200;
const SLOW_POLL_MS = 30000;

/**
 * Everyone signed and the documents are being sealed in the background: ask the read-only
 * status route until the sealing is done (or anything else happened), then show the page again.
 */
publicWidget.registry.O2sEsignSealingStatus = publicWidget.Widget.extend({
    selector: ".o_esign_sealing[data-status-url]",

    start() {
        this.polls = 0;
        this._schedule();
        return this._super(...arguments);
    },

    destroy() {
        clearTimeout(this.timer);
        this._super(...arguments);
    },

    _schedule() {
        const delay = this.polls < FAST_POLLS ? FAST_POLL_MS : SLOW_POLL_MS;
        this.timer = setTimeout(() => this._poll(), delay);
    },

    async _poll() {
        this.polls += 1;
        try {
            const response = await fetch(this.el.dataset.statusUrl, {
                credentials: "same-origin",
                cache: "no-store",
            });
            const result = await response.json();
            if (result.validity && result.validity !== "sealing") {
                window.location.reload();
                return;
            }
        } catch {
            // offline for a moment: ask again later
        }
        this._schedule();
    },
});
