# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Helpers for the tests of the automation: reminders, expiry, retries, mails."""
from freezegun import freeze_time

from odoo import fields

from odoo.addons.o2s_esign.tests.common import O2sEsignCommon
from odoo.addons.o2s_esign.tools import internal_write

# A Monday morning (UTC): the day requests are sent in these tests.
DAY0 = "2026-03-02 10:00:00"


class O2sEsignAutomationCommon(O2sEsignCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The test database is installed in French only: these tests need both languages.
        cls.env["res.lang"]._activate_lang("en_US")
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env.flush_all()  # res.lang reads the active languages with SQL
        cls.company.write({
            "esign_reminder_first_days": 2,
            "esign_reminder_interval_days": 3,
            "esign_reminder_max": 3,
            "esign_validity_days": 30,
        })
        (cls.advisor | cls.advisor2 | cls.esign_manager).lang = "en_US"
        cls.Request = cls.env["o2s.esign.request"]
        cls.MailLog = cls.env["o2s.esign.mail.log"]

    @classmethod
    def _make_client(cls, name, email, mobile, salesperson=None, with_id=True, **values):
        # The test database may give new contacts French by default: these read English.
        values.setdefault("lang", "en_US")
        return super()._make_client(name, email, mobile, salesperson=salesperson, with_id=with_id, **values)

    # ---------------------------------------------------------------- building
    def _send_on(self, when=DAY0, **kwargs):
        with freeze_time(when):
            return self._sent_request(**kwargs)

    def _sign(self, signer):
        """What the signing page does once a signer's signature is complete."""
        with internal_write():
            signer.write({"state": "signed", "date_signed": fields.Datetime.now()})
        signer.env["o2s.esign.consumption"]._record_signature(signer)
        signer.request_id._check_completion()
        self.esign_run_sealing()

    def _refuse(self, signer, reason="Not today"):
        with internal_write():
            signer.write({"state": "refused", "date_refused": fields.Datetime.now(),
                          "refusal_reason": reason})
        signer.request_id._check_completion()

    # ----------------------------------------------------------------- running
    def _run(self, cron_method, when, **kwargs):
        with freeze_time(when):
            return getattr(self.Request.sudo(), cron_method)(**kwargs)

    def _remind(self, when, **kwargs):
        return self._run("_cron_send_reminders", when, **kwargs)

    def _expire(self, when, **kwargs):
        return self._run("_cron_expire_requests", when, **kwargs)

    def _retry(self, when, **kwargs):
        return self._run("_cron_retry_errors", when, **kwargs)

    # ---------------------------------------------------------------- checking
    def _logs(self, kind=None, requests=None, **domain):
        dom = [(k, "=", v) for k, v in domain.items()]
        if kind:
            dom.append(("kind", "=", kind))
        if requests is not None:
            dom.append(("request_id", "in", requests.ids))
        return self.MailLog.sudo().search(dom)

    def _set_batch_size(self, size):
        self.env["ir.config_parameter"].sudo().set_param("o2s_esign.cron_batch_size", size)

    # ------------------------------------------------------------------- bulk
    def _bulk_due_requests(self, count, day0=DAY0, validity_days=30):
        """``count`` requests in progress, each for its own client with one signer invited on
        ``day0``, written with plain SQL (creating them one by one would take minutes).
        Returns the ids of the requests."""
        cr = self.env.cr
        self.env.flush_all()
        company = self.company.id
        advisor = self.advisor.id
        cr.execute("""
            INSERT INTO res_partner (name, complete_name, email, email_normalized, lang, active, type,
                                     is_company, esign_protection, create_uid, write_uid,
                                     create_date, write_date)
            SELECT 'Bulk client ' || g, 'Bulk client ' || g, 'bulk' || g || '@example.com',
                   'bulk' || g || '@example.com', 'en_US', true, 'contact', false, 'none', 1, 1,
                   %(day0)s, %(day0)s
              FROM generate_series(1, %(count)s) g
            RETURNING id
        """, {"count": count, "day0": day0})
        partner_ids = [row[0] for row in cr.fetchall()]
        cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", [partner_ids])
        cr.execute("""
            INSERT INTO o2s_esign_request (name, reference, partner_id, user_id, company_id, state,
                                           signing_order, date_sent, date_deadline,
                                           reminder_first_days, reminder_interval_days, reminder_max,
                                           retry_count, create_uid, write_uid, create_date, write_date)
            SELECT 'Bulk request ' || p.n, 'BULK/' || p.n, p.id, %(advisor)s, %(company)s, 'in_progress',
                   'parallel', %(day0)s, %(day0)s::date + %(validity)s, 2, 3, 3, 0, %(advisor)s, %(advisor)s,
                   %(day0)s, %(day0)s
              FROM unnest(%(partners)s) WITH ORDINALITY AS p(id, n)
            RETURNING id, partner_id
        """, {"advisor": advisor, "company": company, "day0": day0, "partners": partner_ids,
              "validity": validity_days})
        rows = cr.fetchall()
        cr.execute("""
            INSERT INTO o2s_esign_signer (request_id, partner_id, company_id, name, email, mobile, lang,
                                          role, presence, state, sequence, date_invited,
                                          reminder_count, next_reminder_date, create_uid, write_uid,
                                          create_date, write_date)
            SELECT r.id, r.partner_id, %(company)s, p.name, p.email, '+33612345678', 'en_US',
                   'signer', 'remote', 'pending', 10, %(day0)s, 0, %(day0)s::date + 2,
                   %(advisor)s, %(advisor)s, %(day0)s, %(day0)s
              FROM unnest(%(requests)s, %(partners)s) AS r(id, partner_id)
              JOIN res_partner p ON p.id = r.partner_id
        """, {"company": company, "day0": day0, "advisor": advisor,
              "requests": [r[0] for r in rows], "partners": [r[1] for r in rows]})
        # Fresh statistics, as autovacuum keeps them in production (the planner would otherwise
        # take these tables for empty ones and join them the slow way).
        cr.execute("ANALYZE res_partner, o2s_esign_request, o2s_esign_signer")
        self.env.invalidate_all()
        return [r[0] for r in rows]
