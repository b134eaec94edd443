# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import portal
from . import evidence
from . import verify
from . import verify_evidence
from . import upload
