export { SmtpFrontEnd, type FrontEndDeps, type FrontEndPolicy, type MessageSink } from './front-end.ts';
export * from './replies.ts';
export { watchReplies } from './esmtp-adapter.ts';
