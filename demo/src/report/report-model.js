"use strict";
/** Everything the demo report shows; assembled by the demo from the ledger and the edge clients. */
Object.defineProperty(exports, "__esModule", { value: true });
//# sourceMappingURL=report-model.js.map