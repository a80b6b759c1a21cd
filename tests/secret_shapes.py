"""The one table of secret shapes: every output path is tested against it.

Each row is ``(name, text, canary)``: ``text`` holds the secret ``canary``, which must appear in
no output (screen, file, clipboard, history, export) unless ``--show-secrets``.
"""

from __future__ import annotations

PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7CANARYPEMxyz"

SHAPES: list[tuple[str, str, str]] = [
    ("openai key", "openai key sk-CANARYopenai0123456789 used", "CANARYopenai0123456789"),
    ("anthropic key", "sk-ant-api03-CANARYant0123456789", "CANARYant0123456789"),
    ("bearer", "Authorization: Bearer CANARYbearer.abc-def", "CANARYbearer"),
    ("bare bearer", "headers: bearer CANARYbare0123456", "CANARYbare0123456"),
    ("basic", "Authorization: Basic Q0FOQVJZYmFzaWM6cHc=", "Q0FOQVJZYmFzaWM6cHc="),
    ("token scheme", "Authorization: Token CANARYtokscheme", "CANARYtokscheme"),
    (
        "digest",
        'Authorization: Digest username="bob", realm="x", response="CANARYdigest0abc"',
        "CANARYdigest0abc",
    ),
    ("aws id", "AKIACANARY0AWS0ID123 in env", "Y0AWS0ID123"),
    (
        "aws secret",
        "aws_secret_access_key = CANARYawsSecretKey0123456789abc",
        "CANARYawsSecretKey",
    ),
    ("url password", "postgres://admin:CANARYpgpw@db:5432/app", "CANARYpgpw"),
    ("database url env", "DATABASE_URL=postgres://u:CANARYdburl@db/app", "CANARYdburl"),
    ("sentry dsn", "dsn https://CANARYsentrykey0@o1.ingest.sentry.io/42", "CANARYsentrykey0"),
    ("jwt", "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.CANARYjwtsig", "CANARYjwtsig"),
    ("password pair", "password=CANARYpwpair&user=bob", "CANARYpwpair"),
    ("password digits", "password=90817263", "90817263"),
    ("json password", '{"password": "CANARYjsonpw"}', "CANARYjsonpw"),
    ("py api key", "{'api_key': 'CANARYpyapikey'}", "CANARYpyapikey"),
    ("env api key", "OPENAI_API_KEY=CANARYenvkey", "CANARYenvkey"),
    ("event text", "login failed password=CANARYevpw token=CANARYevtok", "CANARYevpw"),
    ("event token", "login failed password=X1 token=CANARYevtok", "CANARYevtok"),
    ("long option", "agent --password CANARYlongopt --verbose", "CANARYlongopt"),
    ("long option eq", "agent --api-key=CANARYlongeq", "CANARYlongeq"),
    ("passwd", "passwd CANARYpasswd", "CANARYpasswd"),
    ("my_pass", "MY_PASS=CANARYmypass", "CANARYmypass"),
    ("db_pw", "DB_PW=CANARYdbpw", "CANARYdbpw"),
    ("local pw", "    pw = 'CANARYlocalpw'", "CANARYlocalpw"),
    ("sentry_dsn env", "SENTRY_DSN=CANARYdsnenv", "CANARYdsnenv"),
    ("github", "ghp_CANARYgithub0123456789abcdefghij", "CANARYgithub0123456789"),
    ("slack", "xoxb-1234567890-CANARYslack", "CANARYslack"),
    ("google", "AIzaCANARYgoogle0123456789abcdefghijk", "CANARYgoogle0123456789"),
    ("stripe", "sk_live_CANARYstripe0123", "CANARYstripe0123"),
    ("huggingface", "hf_CANARYhuggingface0123456789", "CANARYhuggingface"),
    (
        "pem",
        "-----BEGIN RSA PRIVATE KEY-----\n" + PEM_BODY + "\nAAAA\n-----END RSA PRIVATE KEY-----",
        PEM_BODY,
    ),
    ("pem cut", "key:\n-----BEGIN PRIVATE KEY-----\n" + PEM_BODY + "\n", PEM_BODY),
    ("pem body line alone", PEM_BODY, PEM_BODY),
    ("pem tail", PEM_BODY + "\n-----END PRIVATE KEY-----", PEM_BODY),
]

CANARIES = [canary for _name, _text, canary in SHAPES]

ENV_SHAPES: dict[str, str] = {
    "OPENAI_API_KEY": "sk-CANARYenvopenai0123456789",
    "DATABASE_URL": "postgres://u:CANARYenvdb@db/app",
    "MY_PASS": "CANARYenvmypass",
    "DB_PW": "CANARYenvdbpw",
    "SENTRY_DSN": "https://CANARYenvsentry@o1.ingest.sentry.io/1",
    "APP_SECRET": "CANARYenvappsecret",
    "GH_TOKEN": "CANARYenvghtoken",
    "SIGNING_KEY": "CANARYenvsigning",
    "ADMIN_PASSWORD": "CANARYenvadminpw",
    "LDAP_PASSWD": "CANARYenvldap",
}
"""Environment variables whose values are secret by name or by shape."""

ENV_CANARIES = [
    "CANARYenvopenai0123456789",
    "CANARYenvdb",
    "CANARYenvmypass",
    "CANARYenvdbpw",
    "CANARYenvsentry",
    "CANARYenvappsecret",
    "CANARYenvghtoken",
    "CANARYenvsigning",
    "CANARYenvadminpw",
    "CANARYenvldap",
]
