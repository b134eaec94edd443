/** @odoo-module **/
// Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

import { _t } from "@web/core/l10n/translation";
import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";

/**
 * "Copy the signing link": the server checked the right and logged the copy, and gives the
 * link in the action's params; it goes to the clipboard (or is shown, when the browser refuses).
 */
async function esignCopyLink(env, action) {
    const link = action.params.link;
    let copied = false;
    try {
        await browser.navigator.clipboard.writeText(link);
        copied = true;
    } catch {
        copied = false;
    }
    env.services.notification.add(
        copied ? _t("The signing link is copied: give it to the signer only.") : link,
        {
            title: copied ? _t("Link copied") : _t("The signing link (copy it by hand)"),
            type: copied ? "success" : "warning",
            sticky: !copied,
        }
    );
}

registry.category("actions").add("o2s_esign_copy_link", esignCopyLink);
