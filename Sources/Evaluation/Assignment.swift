/// Minimum-cost assignment with forbidden pairs, as py-motmetrics solves it: forbidden (nil) pairs
/// get a cost larger than any solution can save, so the result has as many allowed pairs as
/// possible and, among those, the least total cost. Returns (row, column) pairs of allowed entries.
func minimumCostAssignment(_ cost: [[Double?]]) -> [(row: Int, column: Int)] {
    let rows = cost.count, columns = cost.first?.count ?? 0
    guard rows > 0, columns > 0 else { return [] }
    let allowed = cost.flatMap { $0 }.compactMap { $0 }
    guard !allowed.isEmpty else { return [] }
    let c = allowed.map(abs).max()! + 1
    let forbidden = 2 * Double(min(rows, columns)) * c + 1
    // Square matrix; padding rows/columns cost nothing.
    let n = max(rows, columns)
    var a = Array(repeating: Array(repeating: 0.0, count: n + 1), count: n + 1)
    for i in 0..<rows { for j in 0..<columns { a[i + 1][j + 1] = cost[i][j] ?? forbidden } }

    // Hungarian algorithm with potentials (1-based, O(n³)).
    var u = Array(repeating: 0.0, count: n + 1), v = Array(repeating: 0.0, count: n + 1)
    var p = Array(repeating: 0, count: n + 1), way = Array(repeating: 0, count: n + 1)
    for i in 1...n {
        p[0] = i
        var j0 = 0
        var minv = Array(repeating: Double.infinity, count: n + 1)
        var used = Array(repeating: false, count: n + 1)
        repeat {
            used[j0] = true
            let i0 = p[j0]
            var delta = Double.infinity, j1 = 0
            for j in 1...n where !used[j] {
                let cur = a[i0][j] - u[i0] - v[j]
                if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                if minv[j] < delta { delta = minv[j]; j1 = j }
            }
            for j in 0...n {
                if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
            }
            j0 = j1
        } while p[j0] != 0
        repeat {
            let j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
        } while j0 != 0
    }
    var pairs: [(row: Int, column: Int)] = []
    for j in 1...n {
        let i = p[j] - 1, col = j - 1
        if i < rows, col < columns, cost[i][col] != nil { pairs.append((i, col)) }
    }
    return pairs.sorted { $0.row < $1.row }
}
