-- The merchant's / network's verdict on a conversion (SPEC §3.3 `status`): pending, approved or
-- rejected. Forms without a status keep the default, approved. A rejected conversion earns nothing:
-- it gets no ledger entry when it arrives rejected, and its net ledger sum is reversed when it is
-- rejected later (see ApprovalWriter).
ALTER TABLE conversions ADD COLUMN approval text NOT NULL DEFAULT 'approved'
    CHECK (approval IN ('pending', 'approved', 'rejected'));

-- Before this column, GET postbacks kept their mapped status only as metadata {"postbackStatus": ...}
-- (and every one earned as if approved). Pending ones become pending: they earn the same, and can now
-- be approved or rejected by a later postback. Rejected ones are left approved here, because making them
-- rejected means reversing commission already in the ledger (and perhaps paid): an operator decides,
-- finding them with
--   SELECT id FROM conversions WHERE metadata = '{"postbackStatus": "rejected"}'::jsonb;
UPDATE conversions SET approval = 'pending'
 WHERE metadata = '{"postbackStatus": "pending"}'::jsonb;
