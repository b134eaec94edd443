# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).


def post_init_hook(env):
    """Prepare what every company needs to sign (see res.company._esign_post_init)."""
    env["res.company"].search([])._esign_post_init()
