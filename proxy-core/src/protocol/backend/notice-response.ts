/**
 * NoticeResponse ('N'): same field layout as ErrorResponse.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-NOTICERESPONSE
 */
import { BackendCode } from '../constants.ts';

export { createNoticeResponse, parseErrorFields as parseNoticeFields } from './error-response.ts';

export function isNoticeResponse(code: number): boolean {
  return code === BackendCode.NoticeResponse;
}
