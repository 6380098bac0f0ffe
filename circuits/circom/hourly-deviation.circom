pragma circom 2.1.0;

// Hourly deviation proof of flexproof.
//
// One circuit, and one trusted setup, per shape (readings per period), shared by every
// prosumer and every DR program: nothing about a prosumer or a program is a constant of
// the circuit. The program's request profile enters as a private input bound to the
// enrollment by a salted commitment, and the meter readings are bound to the ledger by
// recomputing the prosumer's fingerprint chain from them.
//
// The JS twin of every hash below lives in src/hashing.ts; the constants in
// src/constants.ts must match the functions right below.

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

// Periods (hours) in a day, hence entries in a request profile.
function PERIODS_PER_DAY() { return 24; }
// A reading is one interval energy in Wh, an unsigned 32-bit integer as the meter sends it.
function READING_BITS() { return 32; }
// A requested period energy in Wh, and any sum of readings of a period, stay below
// 2^ENERGY_BITS. 40 bits leave room for 256 readings of 2^32 - 1 Wh each, so the
// comparator below never sees an operand that could wrap around the field.
function ENERGY_BITS() { return 40; }
// Readings absorbed per Poseidon call of the fingerprint chain: circomlib's Poseidon takes
// at most 16 inputs, one of which carries the chain state.
function FINGERPRINT_CHUNK() { return 15; }
// Bits needed to write any period index 0..23.
function PERIOD_BITS() { return 5; }

// Constrains `in` to [0, 2^bits). Num2Bits makes the prover exhibit the binary
// decomposition, which only exists when the value is below 2^bits (bits < 254, so the
// decomposition cannot alias a value that wrapped around the field order).
template RangeCheck(bits) {
    signal input in;
    component n2b = Num2Bits(bits);
    n2b.in <== in;
    // The bits themselves are not needed: Num2Bits constrains each to 0 or 1 and their
    // weighted sum to `in`, which is the whole check.
    _ <== n2b.out;
}

// Salted request commitment:
//   commitment = Poseidon3(salt, Poseidon12(profile[0..11]), Poseidon12(profile[12..23]))
// 24 values do not fit one circomlib Poseidon (16 inputs at most), hence the two halves.
// The salt is a uniformly random field element (>= 128 bits of entropy) kept by the
// prosumer and the aggregator, so a commitment cannot be opened by trying likely
// profiles. Binding comes from Poseidon's collision resistance.
template RequestCommitment() {
    var HALF = PERIODS_PER_DAY() \ 2;
    signal input profile[PERIODS_PER_DAY()];
    signal input salt;
    signal output out;

    component low = Poseidon(HALF);
    component high = Poseidon(HALF);
    for (var i = 0; i < HALF; i++) {
        low.inputs[i] <== profile[i];
        high.inputs[i] <== profile[HALF + i];
    }
    component top = Poseidon(3);
    top.inputs[0] <== salt;
    top.inputs[1] <== low.out;
    top.inputs[2] <== high.out;
    out <== top.out;
}

// One link of the fingerprint chain, over the readings of one period:
//   h = Poseidon4(prevFingerprint, salt, periodIndex, READINGS)
//   for each chunk of up to 15 consecutive readings: h = Poseidon(h, chunk...)
//   fingerprint = h
// The salt comes first so that, without it, nobody can evaluate the chain on guessed
// readings (an hour of a household meter has few likely values). The period index and
// the shape are domain separators: the same readings in another period, or read by a
// meter of another shape, give another fingerprint.
template FingerprintLink(READINGS) {
    signal input prevFingerprint;
    signal input salt;
    signal input periodIndex;
    signal input readings[READINGS];
    signal output out;

    var CHUNK = FINGERPRINT_CHUNK();
    var CHUNKS = (READINGS + CHUNK - 1) \ CHUNK;

    component head = Poseidon(4);
    head.inputs[0] <== prevFingerprint;
    head.inputs[1] <== salt;
    head.inputs[2] <== periodIndex;
    head.inputs[3] <== READINGS;

    // state[c] is the chain value after c chunks.
    signal state[CHUNKS + 1];
    state[0] <== head.out;
    component absorb[CHUNKS];
    for (var c = 0; c < CHUNKS; c++) {
        var start = c * CHUNK;
        var size = READINGS - start < CHUNK ? READINGS - start : CHUNK;
        absorb[c] = Poseidon(1 + size);
        absorb[c].inputs[0] <== state[c];
        for (var k = 0; k < size; k++) {
            absorb[c].inputs[1 + k] <== readings[start + k];
        }
        state[c + 1] <== absorb[c].out;
    }
    out <== state[CHUNKS];
}

// Picks profile[index] for an index already known to be in 0..23.
template SelectPeriod() {
    var P = PERIODS_PER_DAY();
    signal input profile[P];
    signal input index;
    signal output out;

    // isAt[i] = 1 exactly when index == i (IsEqual is sound for any field element).
    component isAt[P];
    // picked[i] = profile[i] * isAt[i]; one multiplication per period, as a
    // constraint must be at most quadratic.
    signal picked[P];
    var onehot = 0;
    var total = 0;
    for (var i = 0; i < P; i++) {
        isAt[i] = IsEqual();
        isAt[i].in[0] <== index;
        isAt[i].in[1] <== i;
        picked[i] <== profile[i] * isAt[i].out;
        onehot += isAt[i].out;
        total += picked[i];
    }
    // Exactly one selector is set: the index names one of the 24 periods (this alone
    // rejects any index outside 0..23, on top of the range check of the caller).
    onehot === 1;
    out <== total;
}

// READINGS: interval readings per period (4 for 15-minute meters, 60 for 1-minute meters).
template HourlyDeviation(READINGS) {
    // Keeps every period sum below 2^ENERGY_BITS (see ENERGY_BITS above).
    assert(READINGS >= 1);
    assert(READINGS <= 256);
    var P = PERIODS_PER_DAY();

    // ---- Public inputs (snarkjs lists them after the outputs, in this order) ----
    // Head of the prosumer's fingerprint chain on the ledger before this period.
    // Any field element: it is only hashed, so no arithmetic on it can wrap.
    signal input prevFingerprint;
    // Request commitment recorded in the enrollment (see RequestCommitment).
    signal input requestCommitment;
    // Period (hour) of the day, 0..23.
    signal input periodIndex;

    // ---- Private inputs ----
    // Interval energies of the period, Wh, each in [0, 2^32).
    signal input readings[READINGS];
    // Requested energy per period of the day, Wh, each in [0, 2^40).
    signal input requestProfile[P];
    // Salt of the request commitment: any field element (random, >= 128 bits).
    signal input commitmentSalt;
    // Salt of the fingerprint chain: any field element (random, >= 128 bits).
    signal input fingerprintSalt;

    // ---- Public outputs ----
    // Fingerprint chain head after this period; the ledger stores it as the next
    // prevFingerprint.
    signal output newFingerprint;
    // |measured - requested| in Wh, below 2^40.
    signal output deviation;
    // 1 when the measured energy is above the requested energy, 0 otherwise (also 0
    // when they are equal).
    signal output direction;

    // Range checks. Readings and profile values are added and compared below, so each
    // must be a small non-negative integer rather than an arbitrary field element (a
    // "negative" reading p - 1 would otherwise pass as a huge one, or cancel another).
    component readingRange[READINGS];
    for (var i = 0; i < READINGS; i++) {
        readingRange[i] = RangeCheck(READING_BITS());
        readingRange[i].in <== readings[i];
    }
    component profileRange[P];
    for (var i = 0; i < P; i++) {
        profileRange[i] = RangeCheck(ENERGY_BITS());
        profileRange[i].in <== requestProfile[i];
    }
    // periodIndex < 24: decomposed into 5 bits first, as LessThan(5) is only sound for
    // operands below 2^5.
    component periodBits = RangeCheck(PERIOD_BITS());
    periodBits.in <== periodIndex;
    component periodInDay = LessThan(PERIOD_BITS());
    periodInDay.in[0] <== periodIndex;
    periodInDay.in[1] <== P;
    periodInDay.out === 1;

    // The private profile is the one the enrollment committed to.
    component commitment = RequestCommitment();
    for (var i = 0; i < P; i++) {
        commitment.profile[i] <== requestProfile[i];
    }
    commitment.salt <== commitmentSalt;
    requestCommitment === commitment.out;

    // The readings are the fingerprinted ones: the new chain head is recomputed here,
    // so a proof exists only for data that extends the ledger's chain.
    component link = FingerprintLink(READINGS);
    link.prevFingerprint <== prevFingerprint;
    link.salt <== fingerprintSalt;
    link.periodIndex <== periodIndex;
    for (var i = 0; i < READINGS; i++) {
        link.readings[i] <== readings[i];
    }
    newFingerprint <== link.out;

    // Measured energy of the period: the sum of its readings, < READINGS * 2^32 <= 2^40.
    var sum = 0;
    for (var i = 0; i < READINGS; i++) {
        sum += readings[i];
    }
    signal measured;
    measured <== sum;

    // Requested energy of this period.
    component select = SelectPeriod();
    for (var i = 0; i < P; i++) {
        select.profile[i] <== requestProfile[i];
    }
    select.index <== periodIndex;
    signal requested;
    requested <== select.out;

    // direction = (requested < measured). Both operands are below 2^ENERGY_BITS, which
    // LessThan(ENERGY_BITS) needs to be sound.
    component above = LessThan(ENERGY_BITS());
    above.in[0] <== requested;
    above.in[1] <== measured;
    direction <== above.out;

    // deviation = measured - requested when above, requested - measured otherwise:
    // (2 * direction - 1) is +1 or -1, so the product is the absolute difference and
    // is itself below 2^40.
    deviation <== (measured - requested) * (2 * direction - 1);
}
