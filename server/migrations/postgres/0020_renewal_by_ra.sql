-- CERT-4 / RA-3: a renewal done at the RA desk names the RA who did it (their session
-- drives its steps, and it resets the count of self-service renewals); none for the
-- cardholder's own. No foreign key: the trail, not this row, is the record of who.
ALTER TABLE renewals ADD COLUMN by_ra TEXT;
