# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import res_company
from . import o2s_esign_document_type
from . import o2s_esign_id_document
from . import o2s_esign_request
from . import o2s_esign_signer
from . import o2s_esign_document
from . import o2s_esign_event
from . import res_partner
from . import o2s_esign_request_flow
from . import o2s_esign_compliance
from . import o2s_esign_origin_mixin
from . import ir_attachment
from . import o2s_esign_otp
from . import o2s_esign_sms
from . import o2s_esign_signer_portal
from . import mail_mail
