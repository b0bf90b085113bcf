export * from './ports.js';
export * from './service-process.js';
export * from './server-process.js';
export * from './cleanup.js';
export * from './platform.js';
export * from './scratch.js';
