import { jestConfig } from '../../jest.preset.js';

export default jestConfig('libs/audit-ledger');
