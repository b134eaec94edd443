#!/usr/bin/env python3
"""Point the demo database of `make run` at its local stand-ins, so that it signs end to end
with no setting touched: the SMS codes go to the SMS gateway stand-in (scripts/sms_sink.py), the
mails to the mail catcher (scripts/mail_sink.py), the timestamps to the timestamp authority
stand-in (scripts/tsa_sink.py: signatures at PAdES B-T with no network), and the links in mails and SMS to the URL Odoo
is served on. Run by scripts/run.sh before it starts Odoo, at every run (the ports may change);
it changes only what differs, so a run after the first one leaves no trace in the audit trails.

Usage: demo_stand_ins.py -c ODOO_CONF -d DB --base-url URL --sms-url URL --smtp-port PORT
                         --tsa-url URL --tsa-root PEM_FILE

Only for a demo database: a real deployment configures its SMS transport and mail server in
E-signature > Configuration > Settings and in Odoo's Settings.
"""
import argparse
import sys

SMS_TOKEN = "demo"  # the stand-in accepts any token; the webhook transport needs one
MAIL_SERVER_NAME = "Demo mail catcher (make run)"


def configure(env, base_url, sms_url, smtp_port, tsa_url=None, tsa_root=None):
    """Configure the database of ``env`` (superuser); returns what changed, for the log."""
    changed = []
    params = env["ir.config_parameter"].sudo()
    # The stand-ins listen over plain http on 127.0.0.1: the module refuses that unless this
    # system parameter allows it (as in the tests).
    wanted_params = {"web.base.url": base_url, "o2s_esign.allow_http_localhost": "True"}
    for key, value in wanted_params.items():
        if params.get_param(key) != value:
            params.set_param(key, value)
            changed.append(key)
    for company in env["res.company"].sudo().search([]):
        wanted = {
            "esign_sms_transport": "webhook",
            "esign_webhook_url": sms_url,
            "esign_sms_sender": company.esign_sms_sender or "O2S",
        }
        if tsa_url:
            wanted.update(esign_tsa_url=tsa_url, esign_tsa_ca_cert=tsa_root or False,
                          esign_pades_level="b_t")
        values = {name: value for name, value in wanted.items() if company[name] != value}
        if not company._esign_get_secret("webhook_token"):
            values["esign_webhook_token"] = SMS_TOKEN
        if values:
            changed.append("%s: %s" % (company.name, ", ".join(sorted(values))))
            company.write(values)
    servers = env["ir.mail_server"].sudo().with_context(active_test=False)
    server = servers.search([("name", "=", MAIL_SERVER_NAME)], limit=1)
    wanted = {"name": MAIL_SERVER_NAME, "smtp_host": "127.0.0.1", "smtp_port": smtp_port,
              "smtp_encryption": "none", "smtp_authentication": "login", "smtp_user": False,
              "smtp_pass": False, "from_filter": False, "sequence": 1, "active": True}
    if not server:
        servers.create(wanted)
        changed.append("mail server")
    else:
        values = {name: value for name, value in wanted.items() if server[name] != value}
        if values:
            server.write(values)
            changed.append("mail server: %s" % ", ".join(sorted(values)))
    return changed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--config", required=True, help="Odoo configuration file")
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--base-url", required=True, help="the URL Odoo is served on")
    parser.add_argument("--sms-url", required=True, help="the SMS gateway stand-in's URL")
    parser.add_argument("--smtp-port", required=True, type=int, help="the mail catcher's port")
    parser.add_argument("--tsa-url", help="the timestamp authority stand-in's URL")
    parser.add_argument("--tsa-root", help="PEM file of the stand-in's root certificate")
    args = parser.parse_args()
    tsa_root = None
    if args.tsa_root:
        with open(args.tsa_root, encoding="ascii") as fh:
            tsa_root = fh.read()

    import odoo
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.database, "--log-level", "warn"])
    registry = odoo.modules.registry.Registry(args.database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        changed = configure(env, args.base_url.rstrip("/"), args.sms_url, args.smtp_port,
                            args.tsa_url, tsa_root)
    if changed:
        print("demo stand-ins set: %s" % "; ".join(changed), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
