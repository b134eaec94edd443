"""o2s_esign signing core: plain Python (no Odoo import), used by the Odoo models.

Submodules are imported explicitly by callers (``from .lib import signing``); importing this
package does not load pyHanko.
"""
