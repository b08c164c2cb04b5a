// Helpers for the test suites of every package: real servers, captured logs.

export * from './http-request.js';
export * from './listen-failure.js';
export * from './log-capture.js';
export * from './redis-server.js';
export * from './spawn-main.js';
