/** @odoo-module **/
// Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/** Digits of a count as shown (the pager and the block may group thousands). */
function digits(text) {
    return (text || "").replace(/\D/g, "");
}

let signedCount = null;

registry.category("web_tour.tours").add("o2s_esign_home_tour", {
    url: "/odoo/action-o2s_esign.action_esign_home",
    steps: () => [
        {
            content: "The landing page of the app shows the block with a count per status",
            trigger: ".o_esign_home_action .o_esign_home .o_esign_home_status[data-state='signed'] .o_esign_home_count",
            run() {
                signedCount = digits(this.anchor.textContent);
                if (!signedCount || signedCount === "0") {
                    throw new Error(`Expected signed requests, the block shows "${this.anchor.textContent}"`);
                }
            },
        },
        {
            content: "Signed requests are limited to the last 30 days",
            trigger: ".o_esign_home_status[data-state='signed'] .o_esign_home_days:contains(30)",
        },
        {
            content: "The latest requests are listed",
            trigger: ".o_esign_home_latest .o_esign_home_latest_row:eq(7)",
        },
        {
            content: "Open the signed requests",
            trigger: ".o_esign_home_status[data-state='signed']",
            run: "click",
        },
        {
            content: "The list holds as many requests as the count said",
            trigger: ".o_list_view .o_pager_limit",
            run() {
                const shown = digits(this.anchor.textContent);
                if (shown !== signedCount) {
                    throw new Error(`The block counted ${signedCount} signed requests, the list holds ${shown}`);
                }
            },
        },
        {
            content: "Every row of the list is signed",
            trigger: ".o_list_view .o_data_row:first .o_field_cell[name='state']:contains(Signed)",
        },
        {
            content: "Back to the block",
            trigger: ".o_breadcrumb .o_back_button a",
            run: "click",
        },
        {
            content: "Open the latest request",
            trigger: ".o_esign_home_latest .o_esign_home_latest_row:first",
            run: "click",
        },
        {
            content: "Its form opens",
            trigger: ".o_form_view .o_field_widget[name='reference']:contains(BULK-)",
        },
        {
            content: "Back to the block",
            trigger: ".o_breadcrumb .o_back_button a",
            run: "click",
        },
        {
            content: "Open the block's settings",
            trigger: ".o_esign_home .o_esign_home_settings",
            run: "click",
        },
        {
            content: "Stop showing requests in error",
            trigger: ".modal .o_field_widget[name='esign_home_show_error'] input:checked",
            run: "click",
        },
        {
            content: "Save the settings",
            trigger: ".modal .modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "The block no longer shows requests in error",
            trigger: ".o_esign_home:not(:has(.o_esign_home_status[data-state='error'])) .o_esign_home_status[data-state='expired']",
        },
        {
            content: "Put the block on My Dashboard",
            trigger: ".o_esign_home .o_esign_home_toggle_dashboard:contains(Show on My Dashboard)",
            run: "click",
        },
        {
            content: "The block is on My Dashboard",
            trigger: ".o_esign_home .o_esign_home_toggle_dashboard:contains(Remove from My Dashboard)",
        },
    ],
});

/** Whether the optional columns (subject, date) of the block's latest requests are shown. */
function optionalColumnsShown(table) {
    const header = table.querySelector("th.o_esign_home_col_optional");
    return getComputedStyle(header).display !== "none";
}

/** The block's table fits its dashboard column (no horizontal scroll). */
function checkFits(table) {
    const box = table.closest(".table-responsive");
    if (box.scrollWidth > box.clientWidth + 1) {
        throw new Error(`The block's table (${box.scrollWidth}px) overflows its column (${box.clientWidth}px)`);
    }
}

registry.category("web_tour.tours").add("o2s_esign_dashboard_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Dashboards app",
            trigger: ".o_app[data-menu-xmlid='spreadsheet_dashboard.spreadsheet_dashboard_menu_root']",
            run: "click",
        },
        {
            content: "It opens My Dashboard, with the E-signature block in its first column",
            trigger: ".o-dashboard-column[data-idx='0'] .o-dashboard-action .o_esign_home .o_esign_home_status[data-state='in_progress'] .o_esign_home_count",
        },
        {
            content: "In the wide column, the latest requests show every column",
            trigger: ".o-dashboard-column[data-idx='0'] .o_esign_home_latest .o_esign_home_latest_row",
            run() {
                const table = this.anchor.closest("table");
                if (!optionalColumnsShown(table)) {
                    throw new Error("The subject column is hidden in the wide column");
                }
                checkFits(table);
            },
        },
        {
            content: "Drag the block to the second column",
            trigger: ".o-dashboard-action:has(.o_esign_home) .o-dashboard-action-header",
            run: "drag_and_drop .o-dashboard-column[data-idx='1']",
        },
        {
            content: "The block is in the second column",
            trigger: ".o-dashboard-column[data-idx='1'] .o_esign_home .o_esign_home_status",
        },
        {
            content: "In the narrow column: reference, client and status only, and it fits",
            trigger: ".o-dashboard-column[data-idx='1'] .o_esign_home_latest .o_esign_home_latest_row",
            run() {
                const table = this.anchor.closest("table");
                if (optionalColumnsShown(table)) {
                    throw new Error("The subject and date columns are shown in the narrow column");
                }
                checkFits(table);
            },
        },
        {
            content: "Each count opens its list from the dashboard too",
            trigger: ".o_esign_home .o_esign_home_status[data-state='refused']",
            run: "click",
        },
        {
            content: "The refused requests are listed",
            trigger: ".o_list_view .o_data_row:first .o_field_cell[name='state']:contains(Refused)",
        },
    ],
});
