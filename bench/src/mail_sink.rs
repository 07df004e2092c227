//! A local SMTP sink for `load` and `chaos`: the servers' mail workers deliver to it over
//! real SMTP (lettre), as to a relay; it keeps each message's envelope recipients,
//! subject, plain text and `Message-ID` (the outbox row's id), so a flow reads its code
//! from the mail sent to it and a run can check that no message came twice.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use api_types::UnlockCode;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One delivered message.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub message_id: Option<String>,
    /// When it arrived.
    pub at: std::time::Instant,
    read: bool,
}

#[derive(Default)]
struct Inbox {
    mails: Mutex<Vec<Received>>,
    arrived: Notify,
}

/// The sink; it stops with the runtime.
#[derive(Clone)]
pub struct MailSink {
    pub port: u16,
    inbox: Arc<Inbox>,
}

/// The longest message taken; a server's mail is a few KiB.
const MAX_MESSAGE: usize = 1 << 20;

impl MailSink {
    pub async fn start() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the mail sink")?;
        let port = listener.local_addr()?.port();
        let inbox = Arc::new(Inbox::default());
        let serving = inbox.clone();
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let inbox = serving.clone();
                tokio::spawn(async move {
                    // A sender killed mid-message (chaos) is no news: what it sent is
                    // not kept, and its message is sent again by another instance.
                    let quiet = |e: &anyhow::Error| {
                        e.downcast_ref::<std::io::Error>()
                            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionReset)
                    };
                    match session(stream, &inbox).await {
                        Err(error) if !quiet(&error) => eprintln!("mail sink: {peer}: {error:#}"),
                        _ => {}
                    }
                });
            }
        });
        Ok(Self { port, inbox })
    }

    /// The oldest unread message to `to` with `subject`, waiting up to `within`; it is
    /// then read. `None` when none came.
    pub async fn next(&self, to: &str, subject: &str, within: Duration) -> Result<Option<String>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.inbox.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            {
                let mut mails = self
                    .inbox
                    .mails
                    .lock()
                    .map_err(|_| anyhow!("mail sink poisoned"))?;
                let unread = mails.iter_mut().find(|mail| {
                    !mail.read && mail.subject == subject && mail.to.iter().any(|t| t == to)
                });
                if let Some(mail) = unread {
                    mail.read = true;
                    return Ok(Some(mail.text.clone()));
                }
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return Ok(None);
            }
        }
    }

    /// Every message delivered so far.
    pub fn all(&self) -> Result<Vec<Received>> {
        Ok(self
            .inbox
            .mails
            .lock()
            .map_err(|_| anyhow!("mail sink poisoned"))?
            .clone())
    }
}

/// The first six-digit word of a mail's text: its code.
pub fn code_in(text: &str) -> Result<UnlockCode> {
    text.split(|c: char| !c.is_ascii_digit())
        .find_map(|word| UnlockCode::parse(word).ok())
        .ok_or_else(|| anyhow!("no six-digit code in the mail"))
}

/// One SMTP session (RFC 5321, what lettre speaks): any sender and recipient are taken.
async fn session(stream: TcpStream, inbox: &Inbox) -> Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "NOOP" | "MAIL" => b"250 OK\r\n",
            "RSET" => {
                recipients.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                let address = line
                    .split_once('<')
                    .and_then(|(_, rest)| rest.split_once('>'))
                    .map(|(address, _)| address.to_owned())
                    .context("RCPT without <address>")?;
                recipients.push(address);
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 go on\r\n").await?;
                let data = read_data(&mut lines).await?;
                let mail = parse(std::mem::take(&mut recipients), &data)?;
                inbox
                    .mails
                    .lock()
                    .map_err(|_| anyhow!("mail sink poisoned"))?
                    .push(mail);
                inbox.arrived.notify_waiters();
                b"250 OK queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not here\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// The message up to the lone dot, dots unstuffed.
async fn read_data(lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            bail!("the connection closed in DATA");
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
        if data.len() > MAX_MESSAGE {
            bail!("a message over {MAX_MESSAGE} bytes");
        }
    }
}

fn parse(to: Vec<String>, data: &[u8]) -> Result<Received> {
    let message = mail_parser::MessageParser::default()
        .parse(data)
        .context("an unparseable message")?;
    Ok(Received {
        to,
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message
            .body_text(0)
            .map(|text| text.into_owned())
            .unwrap_or_default(),
        message_id: message.message_id().map(str::to_owned),
        at: std::time::Instant::now(),
        read: false,
    })
}
