//! Web server configuration: who the server runs as, which directories and
//! files it serves or needs (its configured roots), and where it listens.
//!
//! Apache: `User`, `Group`, `DocumentRoot`, `Alias`/`ScriptAlias`/
//! `AliasMatch` targets, `SSLCertificateFile`, `SSLCertificateKeyFile`,
//! `SSLCertificateChainFile`, `Listen`, `ServerRoot`; `${VAR}` is expanded
//! from Debian's `envvars` (`export APACHE_RUN_USER=www-data`). nginx:
//! `user`, `root`, `alias`, `ssl_certificate`, `ssl_certificate_key`,
//! `listen`. Include files are not followed: the usual include directories
//! (`sites-enabled/`, `conf-enabled/`, `conf.d/`) are collected and parsed
//! as inputs of their own.

use serde::Serialize;
use std::collections::HashMap;

/// A path a server's configuration names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfiguredPath {
    /// The directive (`DocumentRoot`, `Alias`, `root`, ...).
    pub directive: String,
    /// The path, absolute.
    pub path: String,
    /// Canonical input name.
    pub input: String,
    /// 1-based line.
    pub line: u32,
    /// The line.
    pub excerpt: String,
}

/// An address a server is configured to listen on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListenAddress {
    /// The address, empty for every address (`Listen 80`, `listen 80`).
    pub address: String,
    /// The port.
    pub port: u32,
    /// Canonical input name.
    pub input: String,
    /// 1-based line.
    pub line: u32,
    /// The line.
    pub excerpt: String,
}

/// What one server's configuration files say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WebServer {
    /// `apache2`, `httpd` or `nginx`.
    pub service: String,
    /// The user the workers run as, empty when not configured.
    pub user: String,
    /// Their group, empty when not configured.
    pub group: String,
    /// Where `user` was set (`input:line`).
    pub user_origin: String,
    /// Directories and files the server serves or needs.
    pub paths: Vec<ConfiguredPath>,
    /// Addresses it listens on.
    pub listen: Vec<ListenAddress>,
    /// The inputs the configuration came from.
    pub inputs: Vec<String>,
}

/// Variables `export`ed by a shell-style env file (Debian's
/// `/etc/apache2/envvars`); `${SUFFIX}` references inside values are
/// expanded from earlier lines.
pub fn parse_envvars(text: &str) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("export ") else {
            continue;
        };
        let Some((key, value)) = rest.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        let value = expand(value, &vars);
        vars.insert(key.trim().to_string(), value);
    }
    vars
}

/// Expands `${NAME}` and `$NAME`-free `${NAME}` references; unknown names
/// are left as they are.
fn expand(value: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match vars.get(name) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 3 + end]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits a config line into words; double- or single-quoted words keep
/// their spaces.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

fn parse_listen(spec: &str) -> Option<(String, u32)> {
    // `80`, `192.0.2.7:80`, `[2001:db8::1]:443`, `*:80`, `80 https`.
    let spec = spec.trim();
    if let Ok(port) = spec.parse() {
        return Some((String::new(), port));
    }
    let (addr, port) = spec.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let addr = if addr == "*" || addr == "0.0.0.0" || addr == "::" {
        ""
    } else {
        addr
    };
    Some((addr.to_string(), port))
}

fn push_listen(server: &mut WebServer, spec: &str, input: &str, line: u32, excerpt: &str) {
    if let Some((address, port)) = parse_listen(spec) {
        server.listen.push(ListenAddress {
            address,
            port,
            input: input.to_string(),
            line,
            excerpt: excerpt.to_string(),
        });
    }
}

fn absolute(path: &str, server_root: &str) -> String {
    if path.starts_with('/') || server_root.is_empty() {
        path.to_string()
    } else {
        format!("{}/{}", server_root.trim_end_matches('/'), path)
    }
}

/// Adds what one Apache configuration file says to `server`. `env` holds
/// the `envvars` variables.
pub fn parse_apache(
    server: &mut WebServer,
    input: &str,
    text: &str,
    env: &HashMap<String, String>,
) {
    server.inputs.push(input.to_string());
    let mut server_root = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('<') {
            continue;
        }
        let words = words(&expand(line, env));
        let Some(directive) = words.first() else {
            continue;
        };
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let add_path = |server: &mut WebServer, path: &str, root: &str| {
            if path.contains("${") || path.is_empty() {
                return;
            }
            server.paths.push(ConfiguredPath {
                directive: directive.clone(),
                path: absolute(path, root),
                input: input.to_string(),
                line: number,
                excerpt: line.to_string(),
            });
        };
        match directive.to_ascii_lowercase().as_str() {
            "serverroot" if words.len() > 1 => server_root = words[1].clone(),
            "user" if words.len() > 1 && !words[1].contains("${") => {
                server.user = words[1].clone();
                server.user_origin = format!("{input}:{number}");
            }
            "group" if words.len() > 1 && !words[1].contains("${") => {
                server.group = words[1].clone();
            }
            "documentroot"
            | "sslcertificatefile"
            | "sslcertificatekeyfile"
            | "sslcertificatechainfile"
                if words.len() > 1 =>
            {
                add_path(server, &words[1], &server_root);
            }
            "alias" | "scriptalias" | "aliasmatch" | "scriptaliasmatch" if words.len() > 2 => {
                // AliasMatch targets hold `$1`: keep the fixed part.
                let target = words[2].split('$').next().unwrap_or("");
                add_path(server, target.trim_end_matches('/'), "");
            }
            "listen" if words.len() > 1 => push_listen(server, &words[1], input, number, line),
            _ => {}
        }
    }
}

/// Adds what one nginx configuration file says to `server`.
pub fn parse_nginx(server: &mut WebServer, input: &str, text: &str) {
    server.inputs.push(input.to_string());
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        // One directive per line is the common layout; `a; b;` and
        // `location /x/ { alias /y/; }` are split into statements.
        for statement in line.split([';', '{', '}']) {
            let words = words(statement);
            let Some(directive) = words.first() else {
                continue;
            };
            let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
            match directive.as_str() {
                "user" if words.len() > 1 => {
                    server.user = words[1].clone();
                    server.group = words.get(2).cloned().unwrap_or_default();
                    server.user_origin = format!("{input}:{number}");
                }
                "root" | "alias" | "ssl_certificate" | "ssl_certificate_key"
                    if words.len() > 1 && words[1].starts_with('/') =>
                {
                    server.paths.push(ConfiguredPath {
                        directive: directive.clone(),
                        path: words[1].trim_end_matches('/').to_string(),
                        input: input.to_string(),
                        line: number,
                        excerpt: line.to_string(),
                    });
                }
                "listen" if words.len() > 1 => {
                    push_listen(server, &words[1], input, number, line);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debian 13's /etc/apache2/envvars, trimmed to its export lines.
    const ENVVARS: &str = "unset HOME\nif [ \"${APACHE_CONFDIR##/etc/apache2-}\" != \"${APACHE_CONFDIR}\" ] ; then\n\tSUFFIX=\"-${APACHE_CONFDIR##/etc/apache2-}\"\nelse\n\tSUFFIX=\nfi\nexport APACHE_RUN_USER=www-data\nexport APACHE_RUN_GROUP=www-data\nexport APACHE_PID_FILE=/var/run/apache2$SUFFIX/apache2.pid\n";

    #[test]
    fn apache_user_from_envvars_and_roots() {
        let env = parse_envvars(ENVVARS);
        assert_eq!(env["APACHE_RUN_USER"], "www-data");
        let mut server = WebServer::default();
        parse_apache(
            &mut server,
            "etc/apache2/apache2.conf",
            "ServerRoot \"/etc/apache2\"\nUser ${APACHE_RUN_USER}\nGroup ${APACHE_RUN_GROUP}\nListen 80\n<IfModule ssl_module>\n\tListen 192.0.2.10:443\n</IfModule>\n",
            &env,
        );
        parse_apache(
            &mut server,
            "etc/apache2/sites-enabled/000-default.conf",
            "<VirtualHost *:80>\n\tDocumentRoot /var/www/html\n\tAlias /aliases \"/var/www/html/aliases/\"\n\tAliasMatch ^/u/(.*)$ /srv/users/$1\n\tSSLCertificateFile /etc/ssl/certs/site.pem\n\t# DocumentRoot /old\n</VirtualHost>\n",
            &env,
        );
        assert_eq!(
            (server.user.as_str(), server.group.as_str()),
            ("www-data", "www-data")
        );
        assert_eq!(server.user_origin, "etc/apache2/apache2.conf:2");
        let paths: Vec<_> = server.paths.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/var/www/html",
                "/var/www/html/aliases",
                "/srv/users",
                "/etc/ssl/certs/site.pem"
            ]
        );
        assert_eq!(server.paths[1].line, 3);
        let listen: Vec<_> = server
            .listen
            .iter()
            .map(|l| (l.address.as_str(), l.port))
            .collect();
        assert_eq!(listen, [("", 80), ("192.0.2.10", 443)]);
    }

    #[test]
    fn unexpanded_user_is_not_a_user() {
        let mut server = WebServer::default();
        parse_apache(
            &mut server,
            "x",
            "User ${APACHE_RUN_USER}\n",
            &HashMap::new(),
        );
        assert_eq!(server.user, "");
    }

    #[test]
    fn nginx_user_roots_and_listen() {
        let mut server = WebServer::default();
        parse_nginx(
            &mut server,
            "etc/nginx/nginx.conf",
            "user www-data;\nworker_processes auto;\nhttp {\n  server {\n    listen 192.0.2.10:443 ssl; # site\n    listen [::]:80;\n    root /var/www/html;\n    location /aliases/ { alias /var/www/aliases/; }\n    ssl_certificate /etc/ssl/site.pem;\n  }\n}\n",
        );
        assert_eq!(server.user, "www-data");
        let paths: Vec<_> = server.paths.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/var/www/html", "/var/www/aliases", "/etc/ssl/site.pem"]
        );
        let listen: Vec<_> = server
            .listen
            .iter()
            .map(|l| (l.address.as_str(), l.port))
            .collect();
        assert_eq!(listen, [("192.0.2.10", 443), ("", 80)]);
    }

    #[test]
    fn empty_and_malformed_config() {
        let mut server = WebServer::default();
        parse_apache(&mut server, "x", "", &HashMap::new());
        parse_apache(
            &mut server,
            "x",
            "Listen\nDocumentRoot\nAlias /x\n\u{0}\u{FFFD}\n",
            &HashMap::new(),
        );
        parse_nginx(&mut server, "y", "user;\nroot ;\nlisten nonsense;\n{{{\n");
        assert!(server.paths.is_empty() && server.listen.is_empty() && server.user.is_empty());
    }
}
