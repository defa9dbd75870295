module github.com/appgen/appgen/runtime

go 1.24
