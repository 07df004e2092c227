-- CERT-3: a renewal cut off after the card made its new keys leaves a card whose sign-in
-- the server cannot check. Such a sign-in's challenge and signature are kept here (JSON)
-- for a few minutes, so the card's own sealed word on its keys can finish the renewal;
-- none otherwise.
ALTER TABLE renewals ADD COLUMN recovery TEXT;
