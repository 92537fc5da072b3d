/**
 * Outgoing mail through the SMTP server in the config (`--smtp-url`, `--smtp-from`).
 * Without an SMTP URL there is no mailer, and whatever needs one says the admin must set it.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { ErrorCodes, GatehouseError } from '../../../proxy-core/src/errors.ts';
import { createLogger } from '../../../proxy-core/src/log.ts';

const log = createLogger('mail');
const SEND_TIMEOUT_MS = 15_000;

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  readonly configured: boolean;
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export function createMailer(options: { smtpUrl?: string; from: string }): Mailer {
  if (options.smtpUrl === undefined) {
    return {
      configured: false,
      send: () => Promise.reject(smtpNotConfigured()),
      close: () => undefined,
    };
  }
  const url = new URL(options.smtpUrl);
  url.searchParams.set('connectionTimeout', String(SEND_TIMEOUT_MS));
  url.searchParams.set('greetingTimeout', String(SEND_TIMEOUT_MS));
  url.searchParams.set('socketTimeout', String(SEND_TIMEOUT_MS));
  const transport: Transporter = nodemailer.createTransport(url.toString());
  return {
    configured: true,
    async send(message) {
      try {
        await transport.sendMail({ from: options.from, to: message.to, subject: message.subject, text: message.text });
      } catch (cause) {
        log.warn({ err: cause }, 'sending mail failed');
        throw new GatehouseError(ErrorCodes.INTERNAL, 'the server could not send the email (SMTP error); ask the administrator to check the SMTP settings', {
          cause,
        });
      }
    },
    close: () => transport.close(),
  };
}

export function smtpNotConfigured(): GatehouseError {
  return new GatehouseError(
    ErrorCodes.CONFIG,
    'email codes are not available: the administrator must configure SMTP on the server (--smtp-url / GATEHOUSE_SMTP_URL and --smtp-from)',
  );
}
