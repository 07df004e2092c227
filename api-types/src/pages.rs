//! Issue 18: the SPA is one WASM per audience, so a locked-out nurse's unlock page never
//! downloads the RA console. This is the one table of which page a path is and which
//! entry draws it: the server sends each entry's HTML under its pages' paths, and the
//! entry draws the page the path names.

/// The `id` of the `<script type="application/json">` the server writes into every entry's
/// HTML with the organisation's public settings (`/api/config`'s answer), so the first
/// screen is drawn without a round trip first.
pub const SETTINGS_ELEMENT_ID: &str = "scss-settings";

/// One WASM, with its own HTML page, for one audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The unlock, for a cardholder whose card is locked (and any path we don't know).
    Unlock,
    /// A cardholder's other pages: sign-in, My card, registration, "this wasn't me" and
    /// Check my setup.
    Account,
    /// Changes to the card itself, signed in: certificate renewal (CERT-3) and Manage
    /// Passcodes (PASS-2). Its own WASM, so the renewal's sealed steps weigh on no other
    /// page.
    Renew,
    /// The Registration Authority's console.
    Ra,
}

impl Entry {
    pub const ALL: [Entry; 4] = [Entry::Unlock, Entry::Account, Entry::Renew, Entry::Ra];

    /// The HTML file the server sends for this entry's paths.
    pub fn html(self) -> &'static str {
        match self {
            Entry::Unlock => "index.html",
            Entry::Account => "account.html",
            Entry::Renew => "renew.html",
            Entry::Ra => "ra.html",
        }
    }
}

/// A page of the SPA, as its path names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Unlock,
    SignIn,
    MyCard,
    Register,
    NotMe,
    CheckSetup,
    /// CERT-3: renew the card's certificates.
    Renew,
    /// PASS-2: Manage Passcodes.
    Passcodes,
    RaHome,
    /// `/ra/users/{uuid}`: the segment as written (the page says when it is no UUID).
    RaUser(String),
    RaAudit,
    RaReports,
    /// PASS-5: the helpdesk check (staff console bundle).
    RaHelpdesk,
}

impl Page {
    /// The page at `path` (a trailing slash aside); none for a path we don't know.
    pub fn from_path(path: &str) -> Option<Page> {
        let path = match path.strip_suffix('/') {
            Some(trimmed) if !trimmed.is_empty() => trimmed,
            _ => path,
        };
        Some(match path {
            "/" | "/unlock" => Page::Unlock,
            "/login" => Page::SignIn,
            "/my-card" => Page::MyCard,
            "/register" => Page::Register,
            "/not-me" => Page::NotMe,
            "/check-setup" => Page::CheckSetup,
            "/renew" => Page::Renew,
            "/passcodes" => Page::Passcodes,
            "/ra" => Page::RaHome,
            "/ra/audit" => Page::RaAudit,
            "/ra/reports" => Page::RaReports,
            "/ra/helpdesk" => Page::RaHelpdesk,
            _ => {
                let uuid = path.strip_prefix("/ra/users/")?;
                if uuid.is_empty() || uuid.contains('/') {
                    return None;
                }
                Page::RaUser(uuid.to_owned())
            }
        })
    }

    pub fn entry(&self) -> Entry {
        match self {
            Page::Unlock => Entry::Unlock,
            Page::SignIn | Page::MyCard | Page::Register | Page::NotMe | Page::CheckSetup => {
                Entry::Account
            }
            Page::Renew | Page::Passcodes => Entry::Renew,
            Page::RaHome | Page::RaUser(_) | Page::RaAudit | Page::RaReports | Page::RaHelpdesk => {
                Entry::Ra
            }
        }
    }
}

/// The entry whose HTML the server sends for `path`: an unknown path gets the unlock
/// entry, which says the page was not found.
pub fn entry_for(path: &str) -> Entry {
    Page::from_path(path).map_or(Entry::Unlock, |page| page.entry())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_its_audiences_entry() {
        for (path, entry) in [
            ("/", Entry::Unlock),
            ("/unlock", Entry::Unlock),
            ("/unlock/", Entry::Unlock),
            ("/login", Entry::Account),
            ("/my-card", Entry::Account),
            ("/register", Entry::Account),
            ("/not-me", Entry::Account),
            ("/check-setup", Entry::Account),
            ("/renew", Entry::Renew),
            ("/passcodes", Entry::Renew),
            ("/ra", Entry::Ra),
            ("/ra/", Entry::Ra),
            ("/ra/audit", Entry::Ra),
            ("/ra/reports", Entry::Ra),
            ("/ra/helpdesk", Entry::Ra),
            ("/ra/users/555555555501", Entry::Ra),
            ("/ra/users/not-a-uuid", Entry::Ra),
            ("/nowhere", Entry::Unlock),
            ("/ra/users/", Entry::Unlock),
            ("/ra/users/a/b", Entry::Unlock),
            ("/rather", Entry::Unlock),
        ] {
            assert_eq!(entry_for(path), entry, "{path}");
        }
        assert_eq!(
            Page::from_path("/ra/users/555555555501"),
            Some(Page::RaUser("555555555501".into()))
        );
    }
}
