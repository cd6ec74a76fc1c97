// Provider errors sometimes echo part of the API key ("Incorrect API key provided: sk-abc***xyz").
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/\b(?:sk|pk|rk)-[A-Za-z0-9_*-]{6,}/g, "[redacted]"],
  [/\bAIza[0-9A-Za-z_-]{10,}/g, "[redacted]"],
  [/\bgsk_[A-Za-z0-9]{10,}/g, "[redacted]"],
  [/\bBearer\s+[A-Za-z0-9._-]{8,}/gi, "Bearer [redacted]"],
  [/([?&](?:key|api_key|apikey)=)[^&\s]+/gi, "$1[redacted]"],
];

/** Masks anything that looks like a credential and keeps the message to one short line. */
export function redact(text: string, maxLength = 300): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  out = out.replace(/\s+/g, " ").trim();
  return out.length > maxLength ? `${out.slice(0, maxLength - 1)}…` : out;
}
