package tmplfunc

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// The f-suffixed arithmetic (addf, subf, mulf, divf, add1f) is sprig's: each number is taken
// as the shortest decimal that reads back as the same float64 (0.1 is exactly 1/10, not
// 0.1000000000000000055…), the arithmetic is exact, and only the result is rounded to a
// float64, so addf 0.1 0.2 is 0.3. sprig does this with shopspring/decimal; big.Rat gives the
// same numbers.

// decimalOp folds op over a and nums, as decimals.
func decimalOp(a any, nums []any, op func(z, x, y *big.Rat) *big.Rat) float64 {
	acc := decimalOf(toFloat64(a))
	for _, n := range nums {
		acc = op(new(big.Rat), acc, decimalOf(toFloat64(n)))
	}
	f, _ := acc.Float64()
	return f
}

// decimalOf is f as its shortest decimal. NaN and infinities panic, with decimal's message.
func decimalOf(f float64) *big.Rat {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		panic(fmt.Sprintf("Cannot create a Decimal from %v", f))
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	if !ok {
		panic(fmt.Sprintf("Cannot create a Decimal from %v", f))
	}
	return r
}

// divisionPlaces is shopspring/decimal's DivisionPrecision: a quotient is rounded to 16
// decimal places, half away from zero.
const divisionPlaces = 16

var divisionScale = new(big.Int).SetUint64(1e16) // 10^divisionPlaces

// divRound sets z to x/y rounded to divisionPlaces places; y == 0 panics, as decimal does.
func divRound(z, x, y *big.Rat) *big.Rat {
	if y.Sign() == 0 {
		panic("decimal division by 0")
	}
	q := new(big.Rat).Quo(x, y)
	scaled := new(big.Rat).Mul(q, new(big.Rat).SetInt(divisionScale))
	n, rem := new(big.Int).QuoRem(scaled.Num(), scaled.Denom(), new(big.Int)) // truncated toward zero
	rem.Abs(rem).Lsh(rem, 1)
	if rem.Cmp(scaled.Denom()) >= 0 {
		n.Add(n, big.NewInt(int64(q.Sign())))
	}
	return z.SetFrac(n, divisionScale)
}
