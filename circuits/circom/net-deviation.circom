pragma circom 2.1.0;

// Signed net energy deviation proof of flexproof (circuit version 2, ids flexnet-v2-r*).
//
// The v1 circuit (hourly-deviation.circom) proves the deviation of consumed energy from a
// non-negative request. A prosumer with solar exports as well as imports: this version
// takes both registers' interval energies, proves the deviation of the signed net energy
// (import - export) from a signed request, and keeps v1's six public signals with the
// same order and meaning, so the verifier and the ledger need no change.
//
// Signed values without field wrap-around. A requested net energy v in
// [-2^39, 2^39 - 1] Wh enters the circuit offset by 2^39, as enc = v + 2^39 in
// [0, 2^40), and is range-checked with Num2Bits(40): a "negative" field element never
// appears anywhere. The comparison adds the same bias to both sides (see NetDeviation), so
// both operands are non-negative and below 2^41, where LessThan(41) is sound.
//
// The JS twin of every hash lives in src/hashing.ts (netRequestCommitment, netFingerprint);
// the constants in src/constants.ts must match the functions below.
//
// This file includes the v1 template for its range check, its period selector and its
// shared constants; the v1 file is frozen (existing enrollments verify against its key),
// and the source hash of a v2 shape covers both files.

include "hourly-deviation.circom";

// Offset-encoded profile values are below 2^PROFILE_BITS: v + 2^39 for v in [-2^39, 2^39).
function PROFILE_BITS() { return 40; }
// The offset 2^39 = 2^(PROFILE_BITS - 1): the encoding of 0 Wh.
function PROFILE_OFFSET() { return 549755813888; }
// Operands of the net comparison stay below 2^COMPARE_BITS (bound derived in NetDeviation).
function COMPARE_BITS() { return 41; }
// Domain tag of version 2 in the commitment and in the first call of each chain link, so
// no v2 hash is the v1 hash of the same data.
function NET_VERSION_TAG() { return 2; }

// Salted commitment to an offset-encoded signed request profile:
//   commitment = Poseidon4(2, salt, Poseidon12(enc[0..11]), Poseidon12(enc[12..23]))
// The leading tag 2 (and the arity 4 against v1's Poseidon3, which uses other round
// constants) keep a v2 commitment from ever equalling a v1 one short of a Poseidon
// collision, so an enrollment's commitment names the encoding its profile is read in.
// Binding and hiding as in v1: Poseidon's collision resistance, and a >= 128-bit salt.
template NetRequestCommitment() {
    var HALF = PERIODS_PER_DAY() \ 2;
    signal input encodedProfile[PERIODS_PER_DAY()];
    signal input salt;
    signal output out;

    component low = Poseidon(HALF);
    component high = Poseidon(HALF);
    for (var i = 0; i < HALF; i++) {
        low.inputs[i] <== encodedProfile[i];
        high.inputs[i] <== encodedProfile[HALF + i];
    }
    component top = Poseidon(4);
    top.inputs[0] <== NET_VERSION_TAG();
    top.inputs[1] <== salt;
    top.inputs[2] <== low.out;
    top.inputs[3] <== high.out;
    out <== top.out;
}

// One link of the v2 fingerprint chain, over both registers of one period:
//   h = Poseidon5(prevFingerprint, salt, periodIndex, READINGS, 2)
//   values = importWh[0], exportWh[0], importWh[1], exportWh[1], ...   (2 * READINGS)
//   for each chunk of up to 15 consecutive values: h = Poseidon(h, chunk...)
//   fingerprint = h
// As in v1 the salt keeps the chain from being evaluated on guessed readings, and the
// period index and the shape are domain separators; the tag 2 separates the versions
// (a v1 link and a v2 link of the same period never agree). Interleaving binds each
// export to its interval: swapping an import with an export, or two intervals' exports,
// changes the absorbed sequence and hence the fingerprint.
template NetFingerprintLink(READINGS) {
    signal input prevFingerprint;
    signal input salt;
    signal input periodIndex;
    signal input importWh[READINGS];
    signal input exportWh[READINGS];
    signal output out;

    var CHUNK = FINGERPRINT_CHUNK();
    var VALUES = 2 * READINGS;
    var CHUNKS = (VALUES + CHUNK - 1) \ CHUNK;

    // The absorbed sequence: linear equalities, which --O2 substitutes away.
    signal values[VALUES];
    for (var i = 0; i < READINGS; i++) {
        values[2 * i] <== importWh[i];
        values[2 * i + 1] <== exportWh[i];
    }

    component head = Poseidon(5);
    head.inputs[0] <== prevFingerprint;
    head.inputs[1] <== salt;
    head.inputs[2] <== periodIndex;
    head.inputs[3] <== READINGS;
    head.inputs[4] <== NET_VERSION_TAG();

    // state[c] is the chain value after c chunks.
    signal state[CHUNKS + 1];
    state[0] <== head.out;
    component absorb[CHUNKS];
    for (var c = 0; c < CHUNKS; c++) {
        var start = c * CHUNK;
        var size = VALUES - start < CHUNK ? VALUES - start : CHUNK;
        absorb[c] = Poseidon(1 + size);
        absorb[c].inputs[0] <== state[c];
        for (var k = 0; k < size; k++) {
            absorb[c].inputs[1 + k] <== values[start + k];
        }
        state[c + 1] <== absorb[c].out;
    }
    out <== state[CHUNKS];
}

// READINGS: intervals per period (4 for 15-minute meters, 60 for 1-minute meters).
template NetDeviation(READINGS) {
    // Keeps each register's period sum below 2^40 (256 * (2^32 - 1) < 2^40), which the
    // comparison bound below relies on.
    assert(READINGS >= 1);
    assert(READINGS <= 256);
    var P = PERIODS_PER_DAY();

    // ---- Public inputs (declared in v1's order: snarkjs lists them after the outputs) ----
    // Head of the prosumer's fingerprint chain on the ledger before this period: any field
    // element, only hashed.
    signal input prevFingerprint;
    // Request commitment recorded in the enrollment (see NetRequestCommitment).
    signal input requestCommitment;
    // Period (hour) of the day, 0..23.
    signal input periodIndex;

    // ---- Private inputs ----
    // Energy imported from the grid in each interval of the period, Wh, each in [0, 2^32).
    signal input importWh[READINGS];
    // Energy exported to the grid in each interval, Wh, each in [0, 2^32) (0 for a meter
    // without an export register).
    signal input exportWh[READINGS];
    // Requested net energy per period of the day, OFFSET-ENCODED: entry h holds
    // v_h + 2^39 for the signed request v_h in [-2^39, 2^39 - 1] Wh (negative = export).
    signal input requestProfile[P];
    // Salts: any field element (random, >= 128 bits); only hashed.
    signal input commitmentSalt;
    signal input fingerprintSalt;

    // ---- Public outputs (v1's order and meaning) ----
    // Chain head after this period.
    signal output newFingerprint;
    // |measuredNet - requestedNet| in Wh, below 2^41.
    signal output deviation;
    // 1 when measuredNet > requestedNet, 0 otherwise (also 0 when they are equal).
    signal output direction;

    // Range checks. Every interval energy is added below, so each must be a small
    // non-negative integer: a "negative" reading p - 1 would otherwise pass as a huge one
    // or cancel another (an export posing as a negative import, or the reverse).
    component importRange[READINGS];
    component exportRange[READINGS];
    for (var i = 0; i < READINGS; i++) {
        importRange[i] = RangeCheck(READING_BITS());
        importRange[i].in <== importWh[i];
        exportRange[i] = RangeCheck(READING_BITS());
        exportRange[i].in <== exportWh[i];
    }
    // Each encoded profile value is in [0, 2^40), i.e. the signed request is in
    // [-2^39, 2^39 - 1]. The raw encoding of 2^39 (2^40) and of -2^39 - 1 (p - 1) have no
    // 40-bit decomposition and are refused here.
    component profileRange[P];
    for (var i = 0; i < P; i++) {
        profileRange[i] = RangeCheck(PROFILE_BITS());
        profileRange[i].in <== requestProfile[i];
    }
    // periodIndex < 24: 5-bit decomposition first, as LessThan(5) is only sound below 2^5.
    component periodBits = RangeCheck(PERIOD_BITS());
    periodBits.in <== periodIndex;
    component periodInDay = LessThan(PERIOD_BITS());
    periodInDay.in[0] <== periodIndex;
    periodInDay.in[1] <== P;
    periodInDay.out === 1;

    // The private profile (as encoded) is the one the enrollment committed to. The
    // commitment is over the encoded values, which are in one-to-one correspondence with
    // the signed ones on the range checked above.
    component commitment = NetRequestCommitment();
    for (var i = 0; i < P; i++) {
        commitment.encodedProfile[i] <== requestProfile[i];
    }
    commitment.salt <== commitmentSalt;
    requestCommitment === commitment.out;

    // Both registers are the fingerprinted ones: a proof exists only for interval
    // energies that extend the ledger's chain.
    component link = NetFingerprintLink(READINGS);
    link.prevFingerprint <== prevFingerprint;
    link.salt <== fingerprintSalt;
    link.periodIndex <== periodIndex;
    for (var i = 0; i < READINGS; i++) {
        link.importWh[i] <== importWh[i];
        link.exportWh[i] <== exportWh[i];
    }
    newFingerprint <== link.out;

    // Per-register sums, each in [0, READINGS * (2^32 - 1)] within [0, 2^40): linear
    // combinations of range-checked values, no wrap-around.
    var importSum = 0;
    var exportSum = 0;
    for (var i = 0; i < READINGS; i++) {
        importSum += importWh[i];
        exportSum += exportWh[i];
    }

    // Encoded request of this period, enc = requestedNet + 2^39 in [0, 2^40).
    component select = SelectPeriod();
    for (var i = 0; i < P; i++) {
        select.profile[i] <== requestProfile[i];
    }
    select.index <== periodIndex;

    // measuredNet > requestedNet
    //   <=> importSum - exportSum > enc - 2^39
    //   <=> importSum + 2^39 > exportSum + enc          (common bias exportSum + 2^39)
    // measuredSide = importSum + 2^39 <= (2^40 - 256) + 2^39 < 2^41, and
    // requestedSide = exportSum + enc <= (2^40 - 256) + (2^40 - 1) < 2^41: both are
    // non-negative integers below 2^41 (sums of range-checked values and a constant), so
    // LessThan(41), sound for operands below 2^41, compares them as integers.
    signal measuredSide;
    measuredSide <== importSum + PROFILE_OFFSET();
    signal requestedSide;
    requestedSide <== exportSum + select.out;
    component above = LessThan(COMPARE_BITS());
    above.in[0] <== requestedSide;
    above.in[1] <== measuredSide;
    direction <== above.out;

    // measuredSide - requestedSide = measuredNet - requestedNet exactly (the bias cancels),
    // and (2 * direction - 1) is +1 or -1, so the product is |measuredNet - requestedNet|,
    // below 2^41.
    deviation <== (measuredSide - requestedSide) * (2 * direction - 1);
}
