# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Many signature requests in one SQL statement, for the home block's scale tests and tour.

The ORM would take minutes for 100,000 requests (mail thread, sequence, events); the block only
reads the request rows, so plain rows are what it needs. They live in the test transaction and
are rolled back with it.
"""

# The states of the bulk rows, in turn (row g gets BULK_STATES[g % len(BULK_STATES)]).
BULK_STATES = ("in_progress", "signed", "refused", "cancelled", "expired", "error", "draft")


def bulk_insert_requests(env, count, user, partner, company=None, tag="BULK"):
    """Insert ``count`` requests of ``user`` for ``partner``, spread over every state and over
    the last 90 days (``date_done`` of row g is g % 90 days and 12 hours ago, so that no row
    sits on the boundary of a whole-day limit)."""
    company = company or env.company
    env.flush_all()
    env.cr.execute("""
        INSERT INTO o2s_esign_request (
            name, reference, partner_id, user_id, company_id, state, signing_order,
            date_sent, date_done, date_deadline, create_uid, create_date, write_uid, write_date)
        SELECT 'Bulk request ' || g, %(tag)s || '-' || g, %(partner)s, %(user)s, %(company)s,
               s.state, 'parallel',
               CASE WHEN s.state = 'draft' THEN NULL
                    ELSE (now() AT TIME ZONE 'UTC') - make_interval(days => g %% 90 + 1) END,
               CASE WHEN s.state IN ('signed', 'refused', 'cancelled', 'expired')
                    THEN (now() AT TIME ZONE 'UTC') - make_interval(days => g %% 90, hours => 12)
                    END,
               (now() AT TIME ZONE 'UTC')::date + 30,
               %(user)s, now() AT TIME ZONE 'UTC', %(user)s,
               (now() AT TIME ZONE 'UTC') - make_interval(mins => g)
          FROM generate_series(1, %(count)s) AS g,
               LATERAL (SELECT (%(states)s::varchar[])[1 + g %% %(nstates)s] AS state) AS s
    """, {
        "tag": tag, "partner": partner.id, "user": user.id, "company": company.id,
        "count": count, "states": list(BULK_STATES), "nstates": len(BULK_STATES),
    })
    env.invalidate_all()
