# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import o2s_esign_request_wizard
from . import o2s_esign_request_wizard_document
from . import o2s_esign_request_wizard_signer
from . import o2s_esign_request_cancel
from . import o2s_esign_identity_import
