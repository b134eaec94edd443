# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "O2S E-signature",
    "version": "18.0.1.2.0",
    "summary": "Electronic signature from contacts: PAdES signatures, SMS code, evidence file",
    "description": """
Send one or more PDFs for electronic signature to one or more signers from a contact.
Signers open their link in the portal, prove they hold their mobile with an SMS code and sign.
Every signature is a PAdES signature with a trusted timestamp, and every request ends with an
evidence ZIP that can be verified without Odoo.
""",
    "category": "Productivity/E-signature",
    "author": "o2s_esign contributors",
    "website": "https://github.com/o2s-esign/o2s_esign",
    "license": "LGPL-3",
    "depends": ["mail", "portal", "contacts", "sms", "phone_validation", "board"],
    "external_dependencies": {
        "python": ["pyhanko", "phonenumbers", "qrcode", "pikepdf", "pdfminer.six"],
    },
    "data": [
        "security/o2s_esign_groups.xml",
        "security/ir.model.access.csv",
        "security/o2s_esign_security.xml",
        "data/ir_sequence_data.xml",
        "data/o2s_esign_document_type_data.xml",
        "data/mail_template_invite.xml",
        "data/sms_template_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_activity_type_data.xml",
        "data/mail_template_data.xml",
        "wizard/o2s_esign_request_wizard_views.xml",
        "wizard/o2s_esign_request_cancel_views.xml",
        "wizard/o2s_esign_identity_import_views.xml",
        "views/o2s_esign_request_views.xml",
        "views/o2s_esign_signer_views.xml",
        "views/o2s_esign_document_type_views.xml",
        "views/o2s_esign_id_document_views.xml",
        "views/o2s_esign_event_views.xml",
        "views/res_partner_views.xml",
        "views/o2s_esign_portal_templates.xml",
        "views/o2s_esign_verify_templates.xml",
        "views/o2s_esign_verify_validation_templates.xml",
        "views/o2s_esign_consumption_views.xml",
        "views/o2s_esign_mail_log_views.xml",
        "views/o2s_esign_settings_views.xml",
        "views/res_config_settings_views.xml",
        "views/res_users_views.xml",
        "views/ir_mail_server_views.xml",
        "views/res_company_views.xml",
        "views/o2s_esign_menus.xml",
        "data/res_users_data.xml",
    ],
    "demo": [
        "demo/o2s_esign_demo.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "o2s_esign/static/src/portal/**/*",
        ],
        "web.assets_backend": [
            "o2s_esign/static/src/components/**/*",
        ],
        "web.assets_tests": [
            "o2s_esign/static/tests/tours/*.js",
        ],
    },
    "post_init_hook": "post_init_hook",
    "installable": True,
    "application": True,
}
