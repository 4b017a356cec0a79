"""Groups are named for people by topic, never by a raw room id."""

from __future__ import annotations

from bot.domain.grid import GridNode, GridTree, Room, looks_like_room_id


def test_a_group_is_named_by_its_topic_never_its_id() -> None:
    tree = GridTree(["社区"], [GridNode("A", "江桥社区", "社区", 0, rooms=(
        Room("A", "江桥社区工作群", "1001@chatroom"), Room("A", None, "1002@chatroom")))])
    assert tree.group_name("1001@chatroom") == "江桥社区工作群"
    assert tree.group_name("1002@chatroom", "社区志愿者群") == "社区志愿者群"  # the transport's topic
    assert tree.group_name("1002@chatroom") == "江桥社区的群"
    assert tree.group_name("9999@chatroom") == "一个未登记的群"
    assert tree.group_name("9999@chatroom", "外面的群") == "外面的群"
    assert tree.group_name("旧的楼道群") == "旧的楼道群"
    assert looks_like_room_id("sim-JQS-1") and not looks_like_room_id("1号楼1单元楼道群")
