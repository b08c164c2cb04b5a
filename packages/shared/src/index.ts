// The shared package: configuration readers, response formatting, logging and errors.

export * from './config.js';
export * from './errors.js';
export * from './format.js';
export * from './http-server.js';
export * from './logger.js';
export * from './negotiate.js';
export * from './node-flags.js';
export * from './plain-response.js';
export * from './process.js';
export * from './protocol.js';
export * from './request-target.js';
export * from './respond.js';
