/** @odoo-module **/
// Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";

/** Bootstrap colour of each request status. */
const STATE_COLORS = {
    in_progress: "info",
    signed: "success",
    refused: "danger",
    cancelled: "secondary",
    expired: "warning",
    error: "danger",
};

/**
 * The E-signature home block: the user's requests counted per status (one grouped query on
 * the server), each count opening the matching list, and the latest requests.
 * Rendered by the E-signature app's landing page (client action) and on "My Dashboard"
 * (a window action whose list view uses the js_class below).
 */
export class EsignHome extends Component {
    static template = "o2s_esign.EsignHome";
    static props = {
        embedded: { type: Boolean, optional: true },
    };
    static defaultProps = {
        embedded: false,
    };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({ data: null });
        onWillStart(() => this.load());
    }

    async load() {
        this.state.data = await this.orm.call("o2s.esign.request", "get_esign_home_data", []);
    }

    get signedDaysLabel() {
        return _t("last %(days)s days", { days: this.state.data.signed_days });
    }

    color(state) {
        return STATE_COLORS[state] || "secondary";
    }

    countTitle(status) {
        return _t("%(status)s: %(count)s requests (open the list)", {
            status: status.label,
            count: status.count,
        });
    }

    formatDate(value) {
        return value ? formatDateTime(deserializeDateTime(value), { showSeconds: false }) : "";
    }

    async openStatus(state) {
        const action = await this.orm.call("o2s.esign.request", "action_esign_home_open", [], {
            state: state || false,
        });
        await this.actionService.doAction(action);
    }

    async openRequest(requestId) {
        await this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "o2s.esign.request",
            res_id: requestId,
            views: [[false, "form"]],
            target: "current",
        });
    }

    async openSettings() {
        const action = await this.orm.call("res.users", "action_esign_home_settings", []);
        await this.actionService.doAction(action, {
            onClose: async () => {
                // The board caches its layout: the block may have been added or removed.
                this.env.bus.trigger("CLEAR-CACHES");
                await this.load();
            },
        });
    }

    async toggleDashboard() {
        await this.orm.write("res.users", [user.userId], {
            esign_home_enabled: !this.state.data.on_dashboard,
        });
        this.env.bus.trigger("CLEAR-CACHES");
        await this.load();
    }
}
