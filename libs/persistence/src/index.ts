export * from './database.options.js';
export * from './bootstrap-database.js';
export * from './migrations.js';
export * from './tenant-transactions.js';
export * from './transient-error.js';
export * from './persistence.module.js';
