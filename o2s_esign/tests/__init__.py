# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import test_foundation
from . import test_esign_event
from . import test_esign_request
from . import test_esign_wizard
from . import test_esign_security
from . import test_esign_compliance
from . import test_esign_origin
from . import test_esign_api
from . import test_esign_otp
from . import test_esign_sms
from . import test_esign_portal
from . import test_esign_portal_ui
from . import test_esign_signing
from . import test_esign_evidence
from . import test_esign_keys
from . import test_esign_verify_page
