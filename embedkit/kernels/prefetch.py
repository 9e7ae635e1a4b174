"""Cache prefetch hints for numba kernels: prefetch_read(arr, index) and prefetch_write(arr, index)
emit llvm.prefetch for &arr[index], so a row the kernel will touch soon is on its way while it works
on the current one (GloVe's entries, the classifier's next record). Its own module so that a kernel
using it does not import another model's kernels."""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.extending import intrinsic

FLOATS_PER_LINE = 16        # float32 per 64-byte cache line: one prefetch per this many columns


def _prefetch_intrinsic(write: int):
    """An @intrinsic prefetch(arr, index) emitting llvm.prefetch for &arr[index] (index: int or tuple)."""
    @intrinsic
    def prefetch(typingctx, arr, index):
        if not isinstance(arr, types.Array):
            return None
        idx_types = index.types if isinstance(index, types.BaseTuple) else (index,)
        if len(idx_types) != arr.ndim or not all(isinstance(t, types.Integer) for t in idx_types):
            return None

        def codegen(context, builder, signature, args):
            aryty, idxty = signature.args
            ary = context.make_array(aryty)(context, builder, args[0])
            if isinstance(idxty, types.BaseTuple):
                idx = [context.cast(builder, builder.extract_value(args[1], k), t, types.intp)
                       for k, t in enumerate(idxty.types)]
            else:
                idx = [context.cast(builder, args[1], idxty, types.intp)]
            ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
            i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                                "llvm.prefetch.p0")
            # (address, rw, locality 3 = keep in all cache levels, data cache)
            builder.call(fn, [builder.bitcast(ptr, i8p), i32(write), i32(3), i32(1)])
            return context.get_dummy_value()
        return types.void(arr, index), codegen
    return prefetch


prefetch_read = _prefetch_intrinsic(0)
prefetch_write = _prefetch_intrinsic(1)
