def test_master_key_reads_its_balances(client, account, signer):
    response = client.get("/api/v1/account", **signer.ccxt("GET"))

    assert response.status_code == 200
    assert response.get_json() == {
        "balances": [
            {"asset": "BTC", "assetId": "BTC", "assetName": "BTC", "total": "0.5", "free": "0.5", "locked": "0"},
            {"asset": "USDT", "assetId": "USDT", "assetName": "USDT", "total": "1000", "free": "1000", "locked": "0"},
        ],
        "userId": account["userId"],
    }
